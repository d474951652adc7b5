"""Who is signed in, and the guards routes use: ``signed_in``, ``require_group``, CSRF tokens.

The session cookie (Starlette's signed ``SessionMiddleware``: HttpOnly, SameSite=Lax, Secure over https) holds
only the tenant, the user id, how they signed in and, for OIDC, the groups the identity provider granted. Groups
are read from the tenant directory on every request: a user removed or moved out of a group loses access at
once, and an OIDC claim can only narrow the directory's groups, never add to them.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from mcc.wiring import App

# {"tenant", "user", "method": "password"|"oidc:<name>", "narrow": [...]|None, "iat": epoch seconds}
SESSION_USER = "user"
CSRF_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class WebPrincipal:
    """The signed-in person: directory user, tenant, groups (directory groups, narrowed by OIDC if any)."""

    user_id: str
    tenant_id: str
    groups: frozenset[str]
    display_name: str
    method: str

    def in_any(self, *groups: str) -> bool:
        return bool(self.groups.intersection(groups))


class SignInRequired(Exception):
    """No (valid) session: pages redirect to the sign-in page, htmx and API calls get 401."""


class Forbidden(Exception):
    """Signed in, but not allowed; the message says what is missing (shown to the user)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def mcc_app(request: Request) -> App:
    """The composition root's App this web app was built with."""
    return request.app.state.mcc


def load_principal(app: App, session_user: dict[str, Any]) -> WebPrincipal | None:
    """The principal a session names, re-read from the directory; None when the user is gone or inactive."""
    from spine.errors import SpineError
    from spine.repositories import open_store
    from spine.repositories.credentials import CredentialRepository

    try:
        with open_store(app.sessions, str(session_user["tenant"])) as store:
            user = store.directory.get_user(str(session_user["user"]))
            ended = CredentialRepository(store.session, store.tenant_id).sessions_valid_after(user.user_id)
    except (SpineError, KeyError):
        return None
    started = session_user.get("iat")
    if ended is not None and (not isinstance(started, (int, float)) or started < ended.timestamp()):
        return None  # signed out everywhere or the password changed after this session began
    groups = frozenset(user.groups)
    narrow = session_user.get("narrow")
    if narrow is not None:  # OIDC: the provider's groups can only remove directory groups
        groups = groups & frozenset(narrow)
    return WebPrincipal(user.user_id, user.tenant_id, groups, user.display_name, str(session_user.get("method")))


def current_principal(request: Request) -> WebPrincipal | None:
    """The signed-in principal or None (anonymous); cached on the request."""
    cached = getattr(request.state, "principal", _UNSET)
    if cached is not _UNSET:
        return cached
    raw = request.session.get(SESSION_USER)
    principal = load_principal(mcc_app(request), raw) if isinstance(raw, dict) else None
    if principal is None and raw is not None:
        request.session.pop(SESSION_USER, None)  # the user was removed: the session ends
    request.state.principal = principal
    return principal


def signed_in(request: Request) -> WebPrincipal:
    """Route dependency: the signed-in principal, else SignInRequired (redirect or 401)."""
    principal = current_principal(request)
    if principal is None:
        raise SignInRequired()
    return principal


def require_group(*groups: str) -> Any:
    """Route dependency factory: the principal when it is in one of ``groups``, else Forbidden (403)."""

    def dependency(principal: WebPrincipal = Depends(signed_in)) -> WebPrincipal:
        if not principal.in_any(*groups):
            raise Forbidden(f"this page needs one of the groups: {', '.join(sorted(groups))}")
        return principal

    return dependency


def sign_in(request: Request, tenant_id: str, user_id: str, method: str, narrow: list[str] | None = None) -> None:
    """Start a session for the user: the old session content is dropped and a fresh CSRF token issued."""
    request.session.clear()
    request.session[SESSION_USER] = {"tenant": tenant_id, "user": user_id, "method": method, "narrow": narrow,
                                     "iat": time.time()}  # fmt: skip
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    """End this user's sessions everywhere (a copied cookie stops working too) and clear this one."""
    from spine.repositories import open_store
    from spine.repositories.credentials import CredentialRepository

    principal = current_principal(request)
    request.session.clear()
    if principal is not None:
        with open_store(mcc_app(request).sessions, principal.tenant_id) as store:
            CredentialRepository(store.session, store.tenant_id).end_sessions(principal.user_id)


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use, also for anonymous sessions: the sign-in form)."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def csrf_ok(session: dict[str, Any], presented: str | None) -> bool:
    """Constant-time comparison of the presented token with the session's."""
    expected = session.get(CSRF_KEY)
    if not isinstance(expected, str) or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())
