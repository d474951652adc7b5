"""Per-tenant webhook secrets: Asana's handshake secret (one per hook) and Workfront's shared token (one per tenant).

They are held like connection secrets: encrypted (or by reference) with a key the composition root owns; this
module gets the two functions that seal and open them. A handshake is only accepted for a hook that
``mcc webhooks subscribe`` is creating right now (status ``pending``), so nobody can plant a secret of their own.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from spine.db import utcnow
from spine.models import WebhookSecret

HANDSHAKE_WINDOW = dt.timedelta(minutes=5)
CACHE_SECONDS = 30.0
Seal = Callable[[str], str]
Open = Callable[[str | None, str | None], str]  # (secret_ref, secret_ciphertext) -> secret


@dataclass
class WebhookSecrets:
    """Reads and writes webhook secrets; caches opened secrets briefly (per instance) so ingest stays fast."""

    sessions: sessionmaker[Session]
    seal: Seal
    open_: Open
    _cache: dict[tuple[str, str, str], tuple[float, str | None]] = field(default_factory=dict, repr=False)

    def expect_handshake(self, tenant_id: str, system: str, hook: str) -> None:
        """Mark ``hook`` as waiting for its handshake (before asking the system to create the webhook)."""
        with self.sessions() as s, s.begin():
            row = s.get(WebhookSecret, (tenant_id, system, hook)) or WebhookSecret(
                tenant_id=tenant_id, system=system, hook=hook)  # fmt: skip
            row.status, row.pending_until = "pending", utcnow() + HANDSHAKE_WINDOW
            row.secret_ref = row.secret_ciphertext = None
            s.add(row)
        self._cache.pop((tenant_id, system, hook), None)

    def accept_handshake(self, tenant_id: str, system: str, hook: str, secret: str) -> bool:
        """Store the handshake secret of a pending hook; False when no hook of that name is waiting."""
        with self.sessions() as s, s.begin():
            row = s.get(WebhookSecret, (tenant_id, system, hook), with_for_update=True)
            if row is None or row.status != "pending" or row.pending_until is None or row.pending_until < utcnow():
                return False
            row.secret_ciphertext, row.secret_ref = self.seal(secret), None
            row.status, row.pending_until = "active", None
        self._cache.pop((tenant_id, system, hook), None)
        return True

    def set_secret(self, tenant_id: str, system: str, hook: str, secret: str, external_id: str | None = None) -> None:
        """Store an active secret (Workfront's shared token) sealed."""
        with self.sessions() as s, s.begin():
            row = s.get(WebhookSecret, (tenant_id, system, hook)) or WebhookSecret(
                tenant_id=tenant_id, system=system, hook=hook)  # fmt: skip
            row.secret_ciphertext, row.secret_ref, row.status, row.pending_until = (
                self.seal(secret),
                None,
                "active",
                None,
            )
            row.external_id = external_id or row.external_id
            s.add(row)
        self._cache.pop((tenant_id, system, hook), None)

    def set_external_id(self, tenant_id: str, system: str, hook: str, external_id: str) -> None:
        with self.sessions() as s, s.begin():
            row = s.get(WebhookSecret, (tenant_id, system, hook))
            if row is not None:
                row.external_id = external_id

    def cached(self, tenant_id: str, system: str, hook: str) -> bool:
        """Whether ``get`` would answer from memory (no database read)."""
        hit = self._cache.get((tenant_id, system, hook))
        return hit is not None and hit[0] > time.monotonic()

    def get(self, tenant_id: str, system: str, hook: str) -> str | None:
        """The active secret of a hook, or None (never subscribed, or the handshake has not happened)."""
        key = (tenant_id, system, hook)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self.sessions() as s:
            row = s.get(WebhookSecret, key)
            value = None
            if row is not None and row.status == "active" and (row.secret_ref or row.secret_ciphertext):
                value = self.open_(row.secret_ref, row.secret_ciphertext)
        self._cache[key] = (time.monotonic() + CACHE_SECONDS, value)
        return value

    def hooks(self, tenant_id: str) -> list[dict[str, str | None]]:
        """The tenant's hooks (never their secrets)."""
        from sqlalchemy import select

        with self.sessions() as s:
            rows = s.scalars(select(WebhookSecret).where(WebhookSecret.tenant_id == tenant_id))
            return [{"system": r.system, "hook": r.hook, "status": r.status, "external_id": r.external_id}
                    for r in rows]  # fmt: skip
