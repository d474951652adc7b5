"""A local OpenID Connect provider for tests: metadata, JWKS, an authorize endpoint that signs in whoever the
test names (no UI) and a token endpoint that checks the code, the redirect URI, the client secret and the PKCE
verifier before it returns an RS256 ID token. Same pattern as the issuer of ``tests/mcc/test_serve_oauth.py``
(Starlette on uvicorn in a thread, keys made with joserfc), grown the two endpoints a sign-in needs."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID, CLIENT_SECRET = "mcc-web", "test-client-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OidcIssuer:
    """Set ``claims`` (what the next ID token says) and optionally ``signing_key`` (a foreign key: forgery)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.signing_key = self.key
        self.claims: dict[str, Any] = {}
        self.metadata_issuer: str | None = None  # overrides the metadata's issuer (mix-up attack)
        self.codes: dict[str, dict[str, Any]] = {}
        app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self._metadata), Route("/jwks", self._jwks),
            Route("/authorize", self._authorize), Route("/token", self._token, methods=["POST"]),
        ])  # fmt: skip
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    async def _metadata(self, request: Request) -> JSONResponse:
        return JSONResponse({
            "issuer": self.metadata_issuer or self.url, "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        })  # fmt: skip

    async def _jwks(self, request: Request) -> JSONResponse:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge") or not q.get("nonce"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE and nonce required"}, 400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"], "nonce": q["nonce"]}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

    async def _token(self, request: Request) -> JSONResponse:
        form = await request.form()
        basic = request.headers.get("authorization", "")
        secret = form.get("client_secret")
        if basic.startswith("Basic "):
            secret = base64.b64decode(basic[6:]).decode().partition(":")[2]
        grant = self.codes.pop(str(form.get("code")), None)  # one use only
        if secret != CLIENT_SECRET or grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier") or "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        now = int(time.time())
        claims = {"iss": self.url, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"],
                  "sub": "subject-1", **self.claims}  # fmt: skip
        id_token = jwt.encode({"alg": "RS256", "kid": self.signing_key.kid}, claims, self.signing_key)
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                             "id_token": id_token})  # fmt: skip
