"""JwtVerifier: JWKS caching and key rotation, subject/tenant mapping, and the group rule (narrow, never widen)."""

from __future__ import annotations

import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from mcp.server.auth.provider import AccessToken

from mcp_servers.guard.identity import token_principal
from mcp_servers.guard.oauth import IssuerConfig, JwtVerifier

ISS, AUD = "https://idp.test/", "https://mcc.test/mcp"
DIRECTORY = {("acme", "maya.chen"): frozenset({"marketing", "leadership"})}


def groups_of(tenant: str, user: str) -> frozenset[str] | None:
    return DIRECTORY.get((tenant, user))


class Jwks:
    """The issuer's published key set, and how often it was fetched."""

    def __init__(self, *keys: RSAKey) -> None:
        self.keys = list(keys)
        self.fetches = 0

    async def __call__(self, url: str) -> dict[str, Any]:
        assert url == "https://idp.test/jwks"
        self.fetches += 1
        return KeySet(self.keys).as_dict(private=False)


def _token(key: RSAKey, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISS, "aud": AUD, "sub": "maya.chen", "scope": "mcc", "exp": now + 300, **claims}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, body, key)


def _verifier(jwks: Jwks, refetch_after: float = 0.0, **config: Any) -> JwtVerifier:
    cfg = IssuerConfig(issuer=ISS, audience=AUD, jwks_url="https://idp.test/jwks", tenant="acme", **config)
    return JwtVerifier([cfg], groups_of, fetch=jwks, refetch_after=refetch_after)


async def test_the_jwks_is_cached_and_refetched_when_the_issuer_rotates_its_key() -> None:
    old, new = (
        RSAKey.generate_key(2048, parameters={"kid": "old"}),
        RSAKey.generate_key(2048, parameters={"kid": "new"}),
    )
    jwks = Jwks(old)
    verifier = _verifier(jwks)
    assert await verifier.verify_token(_token(old)) is not None
    assert await verifier.verify_token(_token(old)) is not None
    assert jwks.fetches == 1
    jwks.keys = [new]  # rotation: tokens now carry a kid the cache has not seen
    found = await verifier.verify_token(_token(new))
    assert found is not None and found.subject == "maya.chen" and jwks.fetches == 2


async def test_unknown_kids_do_not_refetch_more_often_than_allowed() -> None:
    key, stranger = (
        RSAKey.generate_key(2048, parameters={"kid": "k"}),
        RSAKey.generate_key(2048, parameters={"kid": "x"}),
    )
    jwks = Jwks(key)
    verifier = _verifier(jwks, refetch_after=3600.0)
    assert await verifier.verify_token(_token(key)) is not None
    for _ in range(5):
        assert await verifier.verify_token(_token(stranger)) is None
    assert jwks.fetches == 1


async def test_group_claim_narrows_directory_groups_and_never_widens_them() -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k"})
    verifier = _verifier(Jwks(key), group_claim="groups", group_map={"idp-mktg": "marketing"})
    token = await verifier.verify_token(_token(key, groups=["idp-mktg", "admins", "security"]))
    assert token is not None
    principal = token_principal(token, groups_of)
    assert principal.groups == frozenset({"marketing"}) and principal.tenant_id == "acme"


async def test_without_a_group_claim_the_directory_alone_decides() -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k"})
    token = await _verifier(Jwks(key)).verify_token(_token(key, groups=["admins"]))
    assert token is not None
    assert token_principal(token, groups_of).groups == frozenset({"marketing", "leadership"})


async def test_a_user_removed_from_the_directory_is_refused() -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k"})
    assert await _verifier(Jwks(key)).verify_token(_token(key, sub="gone.user")) is None


def test_a_static_token_principal_is_unaffected_by_narrowing() -> None:
    token = AccessToken(token="t", client_id="maya.chen", scopes=["mcc"], subject="maya.chen",
                        claims={"tenant_id": "acme"})  # fmt: skip
    assert token_principal(token, groups_of).groups == frozenset({"marketing", "leadership"})
