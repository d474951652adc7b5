"""Who is calling: a fixed principal in-process and over stdio, a bearer or OAuth access token over HTTP.

Groups always come from the tenant's user directory at call time, so a membership change takes effect on
the next call and a token never carries its own authority.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context

from mcp_servers.guard.toolkit import ToolFailure
from policies.model import Principal

# (tenant, user_id) -> groups, or None when the user is not in that tenant's directory.
GroupLookup = Callable[[str, str], frozenset[str] | None]


class PrincipalSource(Protocol):
    """Resolves the principal of the call being served."""

    def current(self, ctx: Context) -> Principal: ...


@dataclass(frozen=True, slots=True)
class FixedPrincipal:
    """In-process and stdio: the server was started for one user (``mcc serve --as USER``)."""

    principal: Principal

    def current(self, ctx: Context) -> Principal:
        return self.principal


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What one bearer token stands for: a user of a tenant (groups come from the directory)."""

    user_id: str
    tenant_id: str


class BearerTokens:
    """Token verifier for streamable HTTP and the principal source that goes with it.

    Tokens are kept only as SHA-256 digests and compared in constant time; they come from settings
    (environment or settings file), never from code.
    """

    def __init__(self, grants: Mapping[str, TokenGrant], groups_of: GroupLookup) -> None:
        self._by_digest = {_digest(tok): grant for tok, grant in grants.items()}
        self._groups_of = groups_of

    async def verify_token(self, token: str) -> AccessToken | None:
        """The MCP ``TokenVerifier`` hook: unknown tokens are refused (401 from the transport)."""
        digest = _digest(token)
        for known, grant in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return AccessToken(
                    token=token,
                    client_id=grant.user_id,
                    scopes=["mcc"],
                    subject=grant.user_id,
                    claims={"tenant_id": grant.tenant_id},
                )
        return None

    def current(self, ctx: Context) -> Principal:
        token = get_access_token()
        if token is None or token.claims is None or token.subject is None:
            raise ToolFailure(
                "no authenticated principal for this call",
                code="unauthenticated",
                fix="send an Authorization: Bearer token issued for MCC",
            )
        return token_principal(token, self._groups_of)


def token_principal(token: AccessToken, groups_of: GroupLookup) -> Principal:
    """The principal of a verified access token: its tenant and user, with the directory's groups at call time,
    narrowed (never widened) by the token's own group list when its issuer is configured with one."""
    if token.claims is None or token.subject is None or "tenant_id" not in token.claims:
        raise ToolFailure("no authenticated principal for this call", code="unauthenticated")
    tenant_id = str(token.claims["tenant_id"])
    groups = groups_of(tenant_id, token.subject)
    if groups is None:
        raise ToolFailure(f"user {token.subject!r} is not in the directory of this tenant", code="unauthenticated")
    narrowing = token.claims.get("token_groups")
    if narrowing is not None:
        groups = groups & frozenset(str(g) for g in narrowing)
    return Principal(user_id=token.subject, tenant_id=tenant_id, groups=groups)
