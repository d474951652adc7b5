"""A tenant's connections to Workfront and Asana (see ``spine.models.connections`` for how secrets are kept)."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel
from sqlalchemy import select

from spine.db import utcnow
from spine.errors import NotFoundError, ValidationError
from spine.models.connections import Connection
from spine.repositories.base import TenantScoped
from spine.repositories.directory import get_tenant

System = Literal["workfront", "asana"]
SYSTEMS: tuple[str, ...] = ("workfront", "asana")
_REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]{0,127}|file:/.{1,490})$")


class ConnectionOut(BaseModel):
    """A connection as callers see it: where the secret lives is shown, the secret never is."""

    tenant_id: str
    system: str
    url: str
    workspace_gid: str | None
    secret: str  # "env:VAR", "file:/path" or "encrypted"
    secret_ref: str | None = None
    secret_ciphertext: str | None = None

    def public(self) -> dict[str, object]:
        """The fields safe to print (no ciphertext)."""
        return self.model_dump(exclude={"secret_ref", "secret_ciphertext"})


class ConnectionRepository(TenantScoped):
    """One connection per (tenant, system); setting it again replaces it."""

    def set(
        self, system: str, url: str, *, secret_ref: str | None = None, secret_ciphertext: str | None = None,
        workspace_gid: str | None = None,
    ) -> ConnectionOut:  # fmt: skip
        """Store where ``system`` lives for this tenant and where its secret is (exactly one of ref/ciphertext)."""
        get_tenant(self.session, self.tenant_id)
        if system not in SYSTEMS:
            raise ValidationError("system", f"{system!r} cannot be connected", "use workfront or asana")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValidationError("url", f"{url!r} is not an http(s) URL", "e.g. https://acme.my.workfront.com")
        if parts.username or parts.password:
            raise ValidationError("url", "the URL carries credentials", "pass the secret separately, never in the URL")
        if (secret_ref is None) == (secret_ciphertext is None):
            raise ValidationError("secret", "give exactly one secret source", "an env var, a file or a stored secret")
        if secret_ref is not None and not _REF.match(secret_ref):
            raise ValidationError("secret", f"{secret_ref!r} is not env:VAR or file:/absolute/path", "fix it")
        if system == "asana" and (workspace_gid is None or not workspace_gid.isdigit()):
            raise ValidationError("workspace_gid", "Asana needs the workspace gid (digits)", "pass --workspace GID")
        row = self.session.get(Connection, (self.tenant_id, system))
        if row is None:
            row = Connection(tenant_id=self.tenant_id, system=system)
            self.session.add(row)
        row.url, row.workspace_gid = url.rstrip("/"), workspace_gid if system == "asana" else None
        row.secret_ref, row.secret_ciphertext, row.updated_at = secret_ref, secret_ciphertext, utcnow()
        self.session.flush()
        return _out(row)

    def get(self, system: str) -> ConnectionOut | None:
        row = self.session.get(Connection, (self.tenant_id, system))
        return _out(row) if row is not None else None

    def list(self) -> list[ConnectionOut]:
        rows = self.session.scalars(select(Connection).where(Connection.tenant_id == self.tenant_id))
        return [_out(r) for r in sorted(rows, key=lambda r: r.system)]

    def remove(self, system: str) -> ConnectionOut:
        row = self.session.get(Connection, (self.tenant_id, system))
        if row is None:
            raise NotFoundError("connection", system, "system")
        out = _out(row)
        self.session.delete(row)
        self.session.flush()
        return out


def _out(row: Connection) -> ConnectionOut:
    return ConnectionOut(
        tenant_id=row.tenant_id, system=row.system, url=row.url, workspace_gid=row.workspace_gid,
        secret=row.secret_ref or "encrypted", secret_ref=row.secret_ref, secret_ciphertext=row.secret_ciphertext,
    )  # fmt: skip
