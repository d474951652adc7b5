"""Sign-in with a directory user's password, sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from mcc.web.rendering import render
from mcc.web.security import current_principal, mcc_app, sign_in, sign_out
from mcc.wiring import App

router = APIRouter()
CLIENT_FACTOR = 4  # a client address may fail this many times the per-account budget (shared offices, NAT)


def safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after sign-in would hand the session to a phishing page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(
    request: Request,
    *,
    error: str | None = None,
    status_code: int = 200,
    tenant: str = "",
    user_id: str = "",
    next_path: str = "/",
    headers: dict[str, str] | None = None,
) -> Response:
    providers = [(name, p.label) for name, p in request.app.state.oidc.items()]
    context = {
        "title": "Sign in", "error": error, "tenant": tenant or mcc_app(request).settings.tenant,
        "user_id": user_id, "next": safe_next(next_path), "providers": providers,
    }  # fmt: skip
    return render(request, "login.html", context, status_code=status_code, headers=headers)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if current_principal(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_path=next)


@router.post("/login")
def login(
    request: Request,
    tenant: Annotated[str, Form(max_length=64)],
    user_id: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password (argon2) within the throttle budget; success starts a fresh session."""
    from spine.errors import SpineError
    from spine.repositories.credentials import CredentialRepository

    app = mcc_app(request)
    throttle = request.app.state.throttle
    tenant, user_id = tenant.strip().lower(), user_id.strip()
    account, client = f"acct:{tenant}:{user_id}", f"ip:{request.client.host if request.client else '-'}"
    limit = app.settings.web_login_failures
    wait = max(throttle.retry_after(account), throttle.retry_after(client, limit * CLIENT_FACTOR))
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return _login_page(
            request, error=f"Too many failed sign-ins. Try again in about {minutes} minute(s).", status_code=429,
            tenant=tenant, user_id=user_id, next_path=next, headers={"Retry-After": str(int(wait) + 1)},
        )  # fmt: skip
    try:
        with app.sessions() as session:
            stored = CredentialRepository(session, tenant).password_hash(user_id)
    except SpineError:
        stored = None
    if not request.app.state.passwords.verify(stored, password):
        throttle.failed(account)
        throttle.failed(client, limit * CLIENT_FACTOR)
        if stored is not None:  # a real account: worth a row (an unknown "user id" may be a mistyped password)
            audit_sign_in(app, tenant, user_id, "password", ok=False)
        return _login_page(request, error="Unknown user or wrong password.", status_code=401, tenant=tenant,
                           user_id=user_id, next_path=next)  # fmt: skip
    sign_in(request, tenant, user_id, "password")
    audit_sign_in(app, tenant, user_id, "password", ok=True)
    return RedirectResponse(safe_next(next), status_code=303)


def audit_sign_in(app: App, tenant: str, user_id: str, method: str, *, ok: bool) -> None:
    """One audit row per sign-in of a real account (never a password; the user id and how they signed in)."""
    app.audit_log().append(
        tenant_id=tenant, actor=user_id, server="web", tool="sign_in", decision="executed" if ok else "denied",
        detail={"user_id": user_id, "method": method},
    )  # fmt: skip


@router.post("/logout")
def logout(request: Request) -> Response:
    sign_out(request)
    return RedirectResponse("/login", status_code=303)
