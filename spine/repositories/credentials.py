"""Password hashes of one tenant's directory users (the web app's local sign-in) and when their sessions end."""

from __future__ import annotations

import datetime as dt

from spine.db import utcnow
from spine.errors import NotFoundError, ValidationError
from spine.models import User, UserCredential
from spine.repositories.base import TenantScoped


class CredentialRepository(TenantScoped):
    """Stores and reads password hashes; hashing and verifying belong to the caller (argon2 in ``mcc.web``)."""

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace the user's password hash; the user must be an active directory user of this tenant."""
        user = self.session.get(User, (self.tenant_id, user_id))
        if user is None or not user.active:
            raise NotFoundError("user", user_id, "user_id")
        if not password_hash or len(password_hash) > 400:
            raise ValidationError("password_hash", "the hash is empty or too long", "pass an argon2 hash")
        row = self._row(user_id)
        row.password_hash = password_hash
        row.sessions_valid_after = utcnow()  # a new password ends the sessions of the old one
        self.session.flush()

    def end_sessions(self, user_id: str, at: dt.datetime | None = None) -> dt.datetime:
        """End every web session of the user started before ``at`` (default now); returns the instant."""
        user = self.session.get(User, (self.tenant_id, user_id))
        if user is None:
            raise NotFoundError("user", user_id, "user_id")
        row = self._row(user_id)
        row.sessions_valid_after = at or utcnow()
        self.session.flush()
        return row.sessions_valid_after

    def sessions_valid_after(self, user_id: str) -> dt.datetime | None:
        row = self.session.get(UserCredential, (self.tenant_id, user_id))
        return row.sessions_valid_after if row is not None else None

    def _row(self, user_id: str) -> UserCredential:
        row = self.session.get(UserCredential, (self.tenant_id, user_id))
        if row is None:
            row = UserCredential(tenant_id=self.tenant_id, user_id=user_id, password_hash=None)
            self.session.add(row)
        return row

    def password_hash(self, user_id: str) -> str | None:
        """The stored hash of an active user, or None (unknown, removed, or no password set)."""
        user = self.session.get(User, (self.tenant_id, user_id))
        if user is None or not user.active:
            return None
        row = self.session.get(UserCredential, (self.tenant_id, user_id))
        return row.password_hash if row is not None else None  # None also for an OIDC-only user

    def has_password(self, user_id: str) -> bool:
        return self.password_hash(user_id) is not None
