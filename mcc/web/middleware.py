"""ASGI middleware of the web app: CSRF on every unsafe request, security headers on every response.

CSRF: a POST/PUT/PATCH/DELETE must present the session's token, in the ``X-CSRF-Token`` header (htmx sends it on
every request, see ``base.html``) or in the ``csrf_token`` field of a url-encoded form. Anything else is 403
before a route runs, so no route can forget it. Pure ASGI (not BaseHTTPMiddleware) so SSE streams pass untouched.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcc.web.security import CSRF_FIELD, CSRF_HEADER, csrf_ok

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_FORM_BYTES = 1_000_000


class CSRFMiddleware:
    """Refuses unsafe requests without the session's CSRF token (runs inside the session middleware)."""

    def __init__(self, app: ASGIApp, exempt_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.exempt = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        session = scope.get("session") or {}
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if CSRF_HEADER in headers:
            if csrf_ok(session, headers[CSRF_HEADER]):
                await self.app(scope, receive, send)
            else:
                await _refuse(scope, receive, send)
            return
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            await _refuse(scope, receive, send)
            return
        body, messages = b"", []
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if len(body) > MAX_FORM_BYTES:
                await PlainTextResponse("form too large", status_code=413)(scope, receive, send)
                return
            if not message.get("more_body", False) or message["type"] != "http.request":
                break
        token = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(CSRF_FIELD, [None])[0]
        if not csrf_ok(session, token):
            await _refuse(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    text = "CSRF check failed: reload the page and try again"
    await PlainTextResponse(text, status_code=403)(scope, receive, send)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    """Adds the CSP (everything from this origin: the app works air-gapped) and related headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
