"""OAuth 2.1 resource server: JWT access tokens from configured issuers, verified with ``joserfc``.

A token is accepted only when its signature verifies with a key of its issuer's JWKS (asymmetric algorithms only,
so ``alg: none`` and HMAC tricks fail), its ``iss`` is a configured issuer, its ``aud`` names this server's
resource URI, it has not expired, and its subject maps to a user of the tenant's directory. Groups are never taken
from the token: a configured group claim can only narrow the directory's groups (see ``IssuerConfig``).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from mcp.server.auth.provider import AccessToken

from mcp_servers.guard.identity import GroupLookup

# Asymmetric only: a verifier that accepted HS256 could be fooled with the public key as the HMAC secret.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
JWKS_TTL_SECONDS = 300.0
# An unknown kid refetches the JWKS at most this often, so forged kids cannot hammer the issuer.
REFETCH_MIN_SECONDS = 10.0
LEEWAY_SECONDS = 30

# Fetches a JSON document by URL (the JWKS or the issuer's metadata).
JsonFetcher = Callable[[str], Awaitable[dict[str, Any]]]


async def fetch_json(url: str) -> dict[str, Any]:
    """GET ``url`` and parse it as a JSON object (raises on HTTP errors)."""
    async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    if not isinstance(data, dict):
        raise ValueError(f"{url} did not return a JSON object")
    return data


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    """One trusted issuer and how its tokens map to a tenant user.

    Group rule (fails closed): the effective groups are the user's directory groups, intersected with the token's
    ``group_claim`` groups (mapped through ``group_map``) when a group claim is configured. A token that lacks the
    configured group claim, or carries it as anything but a list of strings, is refused.
    """

    issuer: str
    audience: str
    jwks_url: str | None = None
    jwks_file: Path | None = None
    tenant: str | None = None
    tenant_claim: str | None = None
    user_claim: str = "sub"
    user_map: Mapping[str, str] = field(default_factory=dict)
    group_claim: str | None = None
    group_map: Mapping[str, str] = field(default_factory=dict)


class _Jwks:
    """One issuer's key set, cached for ``JWKS_TTL_SECONDS`` and refetched early when a token names an unknown kid."""

    def __init__(self, config: IssuerConfig, fetch: JsonFetcher, refetch_after: float) -> None:
        self._config = config
        self._fetch = fetch
        self._refetch_after = refetch_after
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = anyio.Lock()

    async def key_set(self, kid: str | None) -> KeySet:
        now = time.monotonic()
        async with self._lock:
            stale = self._keys is None or now - self._fetched_at > JWKS_TTL_SECONDS
            unknown = kid is not None and self._keys is not None and kid not in _kids(self._keys)
            if stale or (unknown and now - self._fetched_at >= self._refetch_after):
                self._keys = KeySet.import_key_set(await self._load())  # type: ignore[arg-type]
                self._fetched_at = now
            assert self._keys is not None
            return self._keys

    async def _load(self) -> dict[str, Any]:
        c = self._config
        if c.jwks_file is not None:
            return dict(json.loads(c.jwks_file.read_text(encoding="utf-8")))
        url = c.jwks_url or await self._discover()
        return await self._fetch(url)

    async def _discover(self) -> str:
        """The ``jwks_uri`` of the issuer's OpenID or OAuth metadata (RFC 8414)."""
        base = self._config.issuer.rstrip("/")
        for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
            try:
                meta = await self._fetch(base + path)
            except (httpx.HTTPError, ValueError):
                continue
            if isinstance(meta.get("jwks_uri"), str):
                return str(meta["jwks_uri"])
        raise ValueError(f"issuer {self._config.issuer}: no jwks_uri in its metadata; set jwks_url")


def _kids(keys: KeySet) -> set[str]:
    return {str(k.kid) for k in keys.keys if k.kid is not None}


def _unverified_part(token: str, index: int) -> dict[str, Any]:
    """A JWS part decoded without verification: only used to pick the issuer and kid to verify against."""
    part = token.split(".")[index]
    data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


class JwtVerifier:
    """The MCP ``TokenVerifier`` for JWT access tokens of the configured issuers; ``None`` refuses (401)."""

    def __init__(
        self,
        issuers: Sequence[IssuerConfig],
        groups_of: GroupLookup,
        fetch: JsonFetcher = fetch_json,
        refetch_after: float = REFETCH_MIN_SECONDS,
    ) -> None:
        self._issuers = {c.issuer: c for c in issuers}
        self._jwks = {c.issuer: _Jwks(c, fetch, refetch_after) for c in issuers}
        self._groups_of = groups_of

    async def verify_token(self, token: str) -> AccessToken | None:
        """A verified, mapped access token, or None for anything invalid (never an exception to the transport)."""
        if token.count(".") != 2:
            return None
        try:
            header, unverified = _unverified_part(token, 0), _unverified_part(token, 1)
            config = self._issuers.get(str(unverified.get("iss")))
            if config is None or header.get("alg") not in ALGORITHMS:
                return None
            keys = await self._jwks[config.issuer].key_set(header.get("kid"))
            claims = jwt.decode(token, keys, algorithms=ALGORITHMS).claims
            JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": config.issuer},
                aud={"essential": True, "value": config.audience},
                exp={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError, KeyError, TypeError, httpx.HTTPError, OSError):
            return None
        return await self._access_token(token, config, claims)

    async def _access_token(self, token: str, config: IssuerConfig, claims: dict[str, Any]) -> AccessToken | None:
        tenant = config.tenant if config.tenant is not None else claims.get(str(config.tenant_claim))
        subject = claims.get(config.user_claim)
        if not isinstance(tenant, str) or not isinstance(subject, str) or not tenant or not subject:
            return None
        user_id = config.user_map.get(subject) if config.user_map else subject
        if user_id is None:
            return None
        narrowed: list[str] | None = None
        if config.group_claim is not None:
            raw = claims.get(config.group_claim)
            if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
                return None
            narrowed = sorted({config.group_map.get(g, g) for g in raw})
        # The directory decides who exists: a subject it does not know gets a 401, not a principal.
        if await anyio.to_thread.run_sync(self._groups_of, tenant, user_id) is None:
            return None
        scope = claims.get("scope", claims.get("scp", ""))
        scopes = scope.split() if isinstance(scope, str) else [str(s) for s in scope or []]
        mapped: dict[str, Any] = {"tenant_id": tenant, "iss": config.issuer}
        if narrowed is not None:
            mapped["token_groups"] = narrowed
        exp = claims.get("exp")
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or user_id),
            scopes=scopes,
            expires_at=int(exp) if isinstance(exp, int | float) else None,
            resource=config.audience,
            subject=user_id,
            claims=mapped,
        )


class AnyOf:
    """Tries each verifier in turn (static bearer tokens, then JWTs): the first that accepts the token wins."""

    def __init__(self, *verifiers: Any) -> None:
        self._verifiers = verifiers

    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self._verifiers:
            found = await verifier.verify_token(token)
            if found is not None:
                return found
        return None
