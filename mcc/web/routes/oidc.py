"""OpenID Connect sign-in (authorization code flow with PKCE and nonce, via authlib) for each ``web_oidc`` provider.

Trust rules, the same as the MCP servers' OAuth resource server (``mcp_servers/guard/oauth.py``): the ID token
must verify with the issuer's JWKS and name the configured issuer and this client; the user is the
``user_claim`` value (through ``users`` when configured: an unmapped value is refused) and must be an active
user of the provider's tenant directory; a configured ``group_claim`` must be a list of strings and can only
narrow the directory's groups (through ``groups``), never add one.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool

from mcc.settings import OidcProvider
from mcc.web.rendering import render
from mcc.web.routes.auth import audit_sign_in, safe_next
from mcc.web.security import load_principal, mcc_app, sign_in
from mcc.wiring import App

router = APIRouter()
NEXT_KEY = "oidc_next"


class OidcRefused(Exception):
    """The provider's answer cannot sign anyone in; the message is safe to show."""


def setup(web: FastAPI, app: App) -> None:
    """Register one authlib client per configured provider on this web app (``web.state.oidc``)."""
    oauth = OAuth()
    for provider in app.settings.web_oidc:
        secret = provider.client_secret.get_secret_value() if provider.client_secret else None
        client = oauth.register(
            provider.name, client_id=provider.client_id, client_secret=secret,
            server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": " ".join(provider.scopes), "code_challenge_method": "S256"},
        )  # fmt: skip
        web.state.oidc[provider.name] = _Client(provider, client)


class _Client:
    """A provider's settings with its authlib client (``label`` shows on the sign-in page)."""

    def __init__(self, provider: OidcProvider, client: Any) -> None:
        self.provider, self.client, self.label = provider, client, provider.label


def _client(request: Request, name: str) -> _Client:
    found = request.app.state.oidc.get(name)
    if found is None:
        from starlette.exceptions import HTTPException

        raise HTTPException(404)
    return found


def _redirect_uri(request: Request, name: str) -> str:
    base = mcc_app(request).settings.web_public_url or str(request.base_url)
    return base.rstrip("/") + f"/oidc/{name}/callback"


@router.get("/oidc/{name}/start")
async def start(request: Request, name: str, next: str = "/") -> Response:
    """Redirect to the provider; state, nonce and the PKCE verifier wait in the signed session."""
    entry = _client(request, name)
    request.session[NEXT_KEY] = safe_next(next)
    return await entry.client.authorize_redirect(request, _redirect_uri(request, name))


@router.get("/oidc/{name}/callback")
async def callback(request: Request, name: str) -> Response:
    entry = _client(request, name)
    p = entry.provider
    try:
        metadata = await entry.client.load_server_metadata()
        if metadata.get("issuer") != p.issuer:  # a metadata document speaking for another issuer: mix-up
            raise OidcRefused("the provider's metadata names another issuer")
        token = await entry.client.authorize_access_token(
            request, claims_options={"iss": {"essential": True, "values": [p.issuer]}}
        )
        user_id, narrow = map_claims(p, token.get("userinfo"))
    except (OidcRefused, AuthlibBaseError, JoseError, httpx.HTTPError, ValueError) as exc:
        # A forged, expired or replayed answer, or an unreachable provider. Rendering reads the database: a thread.
        return await run_in_threadpool(_refused, request, exc)
    claimed = {"tenant": p.tenant, "user": user_id, "iat": time.time()}  # the session this sign-in would start
    principal = await run_in_threadpool(load_principal, mcc_app(request), claimed)
    if principal is None:
        return await run_in_threadpool(
            _refused, request, OidcRefused("this person is not an active user of the directory")
        )
    target = request.session.get(NEXT_KEY, "/")
    sign_in(request, p.tenant, user_id, f"oidc:{name}", narrow)
    await run_in_threadpool(audit_sign_in, mcc_app(request), p.tenant, user_id, f"oidc:{name}", ok=True)
    return RedirectResponse(safe_next(target), status_code=303)


def map_claims(p: OidcProvider, claims: Any) -> tuple[str, list[str] | None]:
    """(directory user id, narrowing groups or None) from verified ID-token claims; OidcRefused otherwise."""
    if not isinstance(claims, dict):
        raise OidcRefused("the provider returned no ID token")
    value = claims.get(p.user_claim)
    if not isinstance(value, str) or not value:
        raise OidcRefused(f"the ID token has no {p.user_claim!r} claim")
    user_id = p.users.get(value) if p.users else value
    if user_id is None:
        raise OidcRefused("this account is not mapped to an MCC user")
    if p.group_claim is None:
        return user_id, None
    groups = claims.get(p.group_claim)
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise OidcRefused(f"the ID token's {p.group_claim!r} claim is missing or not a list of groups")
    return user_id, sorted({p.groups.get(g, g) for g in groups})


def _refused(request: Request, exc: Exception) -> Response:
    reason = str(exc) if isinstance(exc, OidcRefused) else "the provider's answer could not be verified"
    request.session.pop(NEXT_KEY, None)
    context = {"title": "Sign in", "error": f"Single sign-on failed: {reason}.", "tenant": "", "user_id": "",
               "next": "/", "providers": [(n, c.label) for n, c in request.app.state.oidc.items()]}  # fmt: skip
    return render(request, "login.html", context | {"tenant": mcc_app(request).settings.tenant}, status_code=401)
