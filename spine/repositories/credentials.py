"""Password hashes of one tenant's directory users (the web app's local sign-in)."""

from __future__ import annotations

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
        row = self.session.get(UserCredential, (self.tenant_id, user_id))
        if row is None:
            self.session.add(UserCredential(tenant_id=self.tenant_id, user_id=user_id, password_hash=password_hash))
        else:
            row.password_hash = password_hash
        self.session.flush()

    def password_hash(self, user_id: str) -> str | None:
        """The stored hash of an active user, or None (unknown, removed, or no password set)."""
        user = self.session.get(User, (self.tenant_id, user_id))
        if user is None or not user.active:
            return None
        row = self.session.get(UserCredential, (self.tenant_id, user_id))
        return row.password_hash if row is not None else None

    def has_password(self, user_id: str) -> bool:
        return self.password_hash(user_id) is not None
