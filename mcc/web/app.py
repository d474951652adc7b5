"""The web app factory: ``create_web_app(App)`` returns the FastAPI app ``mcc web`` serves with uvicorn.

How a route module registers itself (no edit of this file needed):

1. Add ``mcc/web/routes/<area>.py`` defining ``router = APIRouter()``; every module of ``mcc.web.routes`` is
   discovered and included, in name order. Optionally define ``NAV = NavItem(order, "Label", "/path")`` to get a
   top-level navigation entry (Chat 10, Approvals 20, Campaigns 30, Audit 40, Playbooks 50); give it groups
   (``NavItem(20, "Approvals", "/approvals", ("vp", ...))``) to show it only to their members.
2. Protect routes with dependencies from ``mcc.web.security``: ``principal: WebPrincipal = Depends(signed_in)``
   (anonymous: pages redirect to ``/login``, htmx/API calls get 401) or ``Depends(require_group("vp", ...))``
   (403 otherwise). Handlers that touch the database are plain ``def`` (FastAPI runs them in a worker thread);
   read data only through the tenant-scoped repositories with ``principal.tenant_id``.
3. Render pages with ``mcc.web.rendering.render(request, "<area>/page.html", {...})``; templates extend
   ``base.html`` and fill ``{% block content %}`` (``{% block scripts %}`` for page scripts, served from
   ``/static``: the CSP allows no inline script). Forms include
   ``<input type="hidden" name="{{ csrf_field }}" value="{{ csrf_token }}">``; htmx requests carry the token
   header automatically. The CSRF middleware refuses any unsafe request without it (403).
4. The composition root's App is ``mcc.web.security.mcc_app(request)``; per-app objects live on
   ``request.app.state`` (``passwords``, ``throttle``, ``oidc``, ``playbooks``), never in module globals. A module
   that needs its own defines ``setup(web: FastAPI, app: App) -> None`` (called once while the app is built).
5. Background work that runs while the server runs (a scheduler, a listener): define
   ``lifespan(web: FastAPI)`` returning an async context manager (``@asynccontextmanager``); every module's is
   entered at start-up and exited at shutdown, in module name order.
6. Tests: ``tests/mcc/web/conftest.py`` has the demo database, ``signed_in("user")`` clients and ``csrf_of``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from mcc.web import routes
from mcc.web.middleware import CSRFMiddleware, SecurityHeadersMiddleware
from mcc.web.passwords import Passwords
from mcc.web.rendering import STATIC_DIR, build_templates, is_htmx, render
from mcc.web.security import Forbidden, SignInRequired, current_principal
from mcc.web.throttle import CounterStore, LoginThrottle
from mcc.wiring import App
from spine.errors import NotFoundError, TenantIsolationError, UnknownTenantError

SESSION_COOKIE = "mcc_session"


def session_secret(app: App) -> str:
    """The session-signing secret: settings.web_session_secret, else home/web.key (generated once, 0600)."""
    configured = app.settings.web_session_secret
    if configured is not None:
        value = configured.get_secret_value()
        if len(value) < 32:
            raise ValueError("web_session_secret: use at least 32 characters (MCC_WEB_SESSION_SECRET)")
        return value
    from mcc.audit_key import load_or_create_key

    return load_or_create_key(app.settings.home / "web.key").decode("ascii")


def create_web_app(
    app: App,
    *,
    secure_cookies: bool | None = None,
    throttle_store: CounterStore | None = None,
    passwords: Passwords | None = None,
) -> FastAPI:
    """The web app over one composition root. ``secure_cookies`` defaults to: the public URL is https;
    ``throttle_store`` to the database's rate counters; ``passwords`` to argon2's default cost."""
    settings = app.settings
    lifespans: list[Callable[[FastAPI], AbstractAsyncContextManager[None]]] = []

    @asynccontextmanager
    async def lifespan(web: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for module_lifespan in lifespans:
                await stack.enter_async_context(module_lifespan(web))
            yield

    web = FastAPI(title="Marketing Command Center", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)  # fmt: skip
    web.state.mcc = app
    web.state.templates = build_templates()
    web.state.passwords = passwords or Passwords()
    if throttle_store is None:
        from spine.rate_counters import SqlRateStore

        throttle_store = SqlRateStore(app.sessions)
    web.state.throttle = LoginThrottle(
        throttle_store, limit=settings.web_login_failures, window=settings.web_login_window_seconds
    )
    web.state.nav = []
    web.state.oidc = {}
    web.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        web.include_router(module.router)
        if getattr(module, "NAV", None) is not None:
            web.state.nav.append(module.NAV)
        if hasattr(module, "setup"):  # a module that needs per-app state (e.g. OIDC clients)
            module.setup(web, app)
        if hasattr(module, "lifespan"):  # background work that runs while the server does
            lifespans.append(module.lifespan)
    web.state.nav.sort()

    @web.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        principal = current_principal(request)
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        visible = [n.path for n in web.state.nav if not n.groups or principal.in_any(*n.groups)]
        return RedirectResponse(visible[0] if visible else "/playbooks", status_code=303)

    _add_error_handlers(web)
    if secure_cookies is None:
        secure_cookies = (settings.web_public_url or "").startswith("https://")
    # Added innermost first: security headers wrap the session, which wraps the CSRF check.
    web.add_middleware(CSRFMiddleware)
    web.add_middleware(
        SessionMiddleware, secret_key=session_secret(app), session_cookie=SESSION_COOKIE,
        max_age=settings.web_session_hours * 3600, same_site="lax", https_only=secure_cookies,
    )  # fmt: skip
    web.add_middleware(SecurityHeadersMiddleware)
    return web


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


def _add_error_handlers(web: FastAPI) -> None:
    @web.exception_handler(SignInRequired)
    def _sign_in(request: Request, exc: SignInRequired) -> Response:
        target = "/login?next=" + request.url.path
        if is_htmx(request) or _wants_json(request):
            return JSONResponse({"error": "sign in required"}, status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @web.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": exc.message}, status_code=403)
        return render(request, "error.html", {"title": "Not allowed", "message": exc.message}, status_code=403)

    def _not_found(request: Request, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=404)
        return render(request, "error.html", {"title": "Not found", "message": message}, status_code=404)

    @web.exception_handler(NotFoundError)
    @web.exception_handler(TenantIsolationError)
    @web.exception_handler(UnknownTenantError)
    def _spine_not_found(request: Request, exc: Exception) -> Response:
        # Another tenant's object is reported exactly like a missing one: no existence oracle.
        return _not_found(request, "nothing here with that id")

    @web.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _not_found(request, "no such page")
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
