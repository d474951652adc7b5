"""`mcc serve --transport http` as an OAuth 2.1 resource server, attacked with forged and misissued JWTs.

A local test issuer (Starlette on uvicorn in a thread) serves OpenID metadata and a JWKS whose keys are generated
here with joserfc; the MCC server runs as a real subprocess and discovers the JWKS through the issuer metadata.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.mcc.test_serve import _env, _free_port, _wait_for_port

pytestmark = pytest.mark.slow

KEY_A = RSAKey.generate_key(2048, parameters={"kid": "a-1"})
KEY_B = RSAKey.generate_key(2048, parameters={"kid": "b-1"})
FOREIGN = RSAKey.generate_key(2048, parameters={"kid": "a-1"})  # same kid as A, not A's key
STATIC = "tok-static-0123456789abcdef"


class Issuer:
    """Two issuers under one local server: /a (tenant in a claim) and /b (fixed tenant, group claim)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        keys = {"a": KEY_A, "b": KEY_B}

        async def metadata(request: Request) -> JSONResponse:
            name = request.path_params["name"]
            issuer = f"{self.base}/{name}"
            return JSONResponse({"issuer": issuer, "jwks_uri": f"{issuer}/jwks", "authorization_endpoint":
                                 f"{issuer}/authorize", "token_endpoint": f"{issuer}/token"})  # fmt: skip

        async def jwks(request: Request) -> JSONResponse:
            key = keys[request.path_params["name"]]
            return JSONResponse(KeySet([key]).as_dict(private=False))

        app = Starlette(routes=[Route("/{name}/.well-known/openid-configuration", metadata),
                                Route("/{name}/jwks", jwks)])  # fmt: skip
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    found.thread.start()
    while not found.server.started:
        time.sleep(0.05)
    yield found
    found.server.should_exit = True
    found.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(demo_home: tuple[Path, dict[str, Any]], issuer: Issuer) -> Iterator[str]:
    """The spine server over HTTP trusting both issuers (and one static token); yields its MCP URL."""
    port = _free_port()
    issuers = [
        {"issuer": issuer.url("a"), "tenant_claim": "org",
         "users": {"00u-maya": "maya.chen", "00u-hank": "hank.scorpio"}},
        {"issuer": issuer.url("b"), "tenant": "acme", "user_claim": "email",
         "users": {"maya@acme.test": "maya.chen"}, "group_claim": "groups"},
    ]  # fmt: skip
    env = _env(
        demo_home[0], MCC_OAUTH_ISSUERS=json.dumps(issuers), MCC_HTTP_TOKENS=json.dumps({STATIC: "acme/maya.chen"})
    )
    cmd = [sys.executable, "-m", "mcc", "serve", "spine", "--transport", "http", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, proc, "spine")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _token(issuer: Issuer, server: str, key: RSAKey = KEY_A, name: str = "a", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": issuer.url(name), "aud": server, "sub": "00u-maya", "org": "acme", "scope": "mcc openid",
              "iat": now, "exp": now + 600, **overrides}  # fmt: skip
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _list(server: str, token: str | None) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    return httpx.post(server, json=body, headers=headers, timeout=60)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _campaign_tenants(server: str, token: str) -> set[str]:
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
    async with Client(streamable_http_client(server, http_client=client)) as mcp:
        result = await mcp.call_tool("list_campaigns", {"limit": 100})
    assert not result.is_error, result.content[0].text
    return {c["tenant_id"] for c in result.structured_content["campaigns"]}


def test_metadata_names_every_issuer_and_401_points_at_it(server: str, issuer: Issuer) -> None:
    refused = _list(server, None)
    assert refused.status_code == 401
    hint = refused.headers["www-authenticate"]
    metadata_url = server.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    assert hint.startswith("Bearer ") and f'resource_metadata="{metadata_url}"' in hint
    metadata = httpx.get(metadata_url, timeout=30).json()
    assert metadata["resource"] == server
    assert sorted(metadata["authorization_servers"]) == [issuer.url("a"), issuer.url("b")]
    assert metadata["scopes_supported"] == ["mcc"]


async def test_a_valid_token_acts_as_the_mapped_directory_user_of_its_tenant(server: str, issuer: Issuer) -> None:
    assert _list(server, _token(issuer, server)).status_code == 200
    assert await _campaign_tenants(server, _token(issuer, server)) == {"acme"}
    hank = _token(issuer, server, sub="00u-hank", org="globex")
    assert await _campaign_tenants(server, hank) == {"globex"}


def test_static_bearer_tokens_still_work_beside_oauth(server: str) -> None:
    assert _list(server, STATIC).status_code == 200


@pytest.mark.parametrize(
    "attack",
    ["expired", "wrong_audience", "wrong_issuer", "foreign_key_same_kid", "unsigned", "tampered",
     "hs256_with_public_key", "unmapped_subject", "subject_of_another_tenant", "missing_tenant_claim", "no_exp"],
)  # fmt: skip
def test_forged_or_misissued_tokens_get_401(server: str, issuer: Issuer, attack: str) -> None:
    now = int(time.time())
    if attack == "expired":
        token = _token(issuer, server, iat=now - 7200, exp=now - 3600)
    elif attack == "wrong_audience":
        token = _token(issuer, server, aud="http://127.0.0.1:1/mcp")
    elif attack == "wrong_issuer":
        token = _token(issuer, server, iss="http://evil.example/a")
    elif attack == "foreign_key_same_kid":
        token = _token(issuer, server, key=FOREIGN)
    elif attack == "unsigned":
        claims = json.loads(base64.urlsafe_b64decode(_token(issuer, server).split(".")[1] + "=="))
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    elif attack == "tampered":  # a valid token for maya whose payload now says hank of globex
        header, payload, signature = _token(issuer, server).split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        token = f"{header}.{_b64({**claims, 'sub': '00u-hank', 'org': 'globex'})}.{signature}"
    elif attack == "hs256_with_public_key":  # the classic key-confusion forgery, signed by hand (joserfc refuses)
        import hashlib
        import hmac

        claims = json.loads(base64.urlsafe_b64decode(_token(issuer, server).split(".")[1] + "=="))
        signing_input = f"{_b64({'alg': 'HS256', 'kid': 'a-1'})}.{_b64(claims)}"
        mac = hmac.new(KEY_A.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    elif attack == "unmapped_subject":
        token = _token(issuer, server, sub="00u-stranger")
    elif attack == "subject_of_another_tenant":  # maya is not in globex's directory
        token = _token(issuer, server, org="globex")
    elif attack == "missing_tenant_claim":
        token = _token(issuer, server, org=None)
    else:
        token = _token(issuer, server, exp=None)
    assert _list(server, token).status_code == 401


def test_a_token_without_the_required_scope_is_forbidden(server: str, issuer: Issuer) -> None:
    response = _list(server, _token(issuer, server, scope="openid profile"))
    assert response.status_code == 403 and "insufficient_scope" in response.headers["www-authenticate"]


def test_group_claim_narrows_and_a_missing_one_fails_closed(server: str, issuer: Issuer) -> None:
    base = {"email": "maya@acme.test", "org": None}
    with_groups = _token(issuer, server, key=KEY_B, name="b", groups=["marketing"], **base)
    assert _list(server, with_groups).status_code == 200
    assert _list(server, _token(issuer, server, key=KEY_B, name="b", **base)).status_code == 401
    assert _list(server, _token(issuer, server, key=KEY_B, name="b", groups="marketing", **base)).status_code == 401
