"""The webhook receiver (Starlette): ``POST /webhooks/asana/{tenant}`` and ``POST /webhooks/workfront/{tenant}``.

Asana: the X-Hook-Secret handshake is echoed (only for a hook being subscribed), X-Hook-Signature is the
HMAC-SHA256 of the raw body, an empty event list is a heartbeat (200, nothing stored). Workfront: the shared token
given as the subscription's ``authToken`` comes back in ``Authorization``. Bad signature or token -> 401 and
nothing stored; malformed -> 400; unknown tenant -> 404. An accepted delivery is stored in the inbox (duplicates
ignored), then acknowledged, then handed to ``on_stored`` (the queue). Database work runs off the event loop:
on SQLite a request whose tenant and secret are cached is checked on the loop and its row stored by the one writer
thread (``sync.inbox_writer``); anything else runs in a worker thread.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.asana.webhooks import Handshake, InvalidSignature, WebhookError
from connectors.asana.webhooks import receive as asana_receive
from connectors.workfront.webhooks import WebhookPayloadError, parse_event
from spine.models import Tenant
from sync import inbox
from sync.inbox_writer import InboxWriter
from sync.webhook_secrets import WebhookSecrets

log = logging.getLogger("mcc.sync.receiver")
MAX_BODY = 1_000_000
_HOOK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TENANT_CACHE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, object]
    headers: dict[str, str] = field(default_factory=dict)


Checked = Answer | dict[str, Any]  # an answer to give now, or the inbox row of an accepted delivery


@dataclass
class Receiver:
    """Checks, stores and acknowledges deliveries; ``on_stored(inbox_id)`` queues a new one for processing (keep it
    quick: it may run on the event loop). On SQLite every row goes through one writer thread (group commit); on
    PostgreSQL each request commits its own."""

    sessions: sessionmaker[Session]
    secrets: WebhookSecrets
    on_stored: Callable[[str], None] | None = None
    _tenants: dict[str, float] = field(default_factory=dict, repr=False)
    _writer: InboxWriter | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.sessions.kw["bind"].dialect.name == "sqlite":
            self._writer = InboxWriter(self.sessions)

    def _tenant_known(self, tenant_id: str) -> bool:
        if self._tenants.get(tenant_id, 0.0) > time.monotonic():
            return True
        with self.sessions() as s:
            known = s.get(Tenant, tenant_id) is not None
        if known:
            self._tenants[tenant_id] = time.monotonic() + TENANT_CACHE_SECONDS
        return known

    def checks_in_memory(self, tenant_id: str, system: str, hook: str, headers: dict[str, str]) -> bool:
        """Whether checking this request needs no database (tenant and secret cached, not a handshake), so it can
        run on the event loop; the store then goes to the writer thread (SQLite only)."""
        return (self._writer is not None and "x-hook-secret" not in headers
                and self._tenants.get(tenant_id, 0.0) > time.monotonic()
                and self.secrets.cached(tenant_id, system, hook))  # fmt: skip

    def _row(self, tenant_id: str, system: str, headers: dict[str, str], body: bytes) -> Checked:
        try:
            return inbox.row(tenant_id, system, inbox.delivery_id_for(body, headers), headers, body)
        except UnicodeDecodeError:
            return Answer(400, {"error": "body: not UTF-8 text"})

    def _stored(self, stored: inbox.Stored) -> Answer:
        if stored.created and self.on_stored is not None:
            try:
                self.on_stored(stored.id)
            except Exception:
                log.warning("delivery %s stored but not queued; the sweep will pick it up", stored.id)
        return Answer(200, {"inbox_id": stored.id, "duplicate": not stored.created})

    def _store(self, checked: Checked) -> Answer:
        if isinstance(checked, Answer):
            return checked
        if self._writer is not None:
            return self._stored(self._writer.store_blocking(checked))
        return self._stored(inbox.store_many(self.sessions, [checked])[0])

    async def _store_async(self, checked: Checked) -> Answer:
        if isinstance(checked, Answer):
            return checked
        assert self._writer is not None
        return self._stored(await self._writer.store(checked))

    def asana(self, tenant_id: str, hook: str, headers: dict[str, str], body: bytes) -> Answer:
        """One request to the Asana target of ``tenant_id`` (``hook``: which webhook, default ``default``)."""
        return self._store(self.check_asana(tenant_id, hook, headers, body))

    def workfront(self, tenant_id: str, headers: dict[str, str], body: bytes) -> Answer:
        """One Workfront event message for ``tenant_id``."""
        return self._store(self.check_workfront(tenant_id, headers, body))

    async def asana_in_loop(self, tenant_id: str, hook: str, headers: dict[str, str], body: bytes) -> Answer:
        """``asana`` from the event loop, when ``checks_in_memory``."""
        return await self._store_async(self.check_asana(tenant_id, hook, headers, body))

    async def workfront_in_loop(self, tenant_id: str, headers: dict[str, str], body: bytes) -> Answer:
        """``workfront`` from the event loop, when ``checks_in_memory``."""
        return await self._store_async(self.check_workfront(tenant_id, headers, body))

    def check_asana(self, tenant_id: str, hook: str, headers: dict[str, str], body: bytes) -> Checked:
        """Handshake, signature and shape of an Asana request: the answer, or the row to store."""
        if not self._tenant_known(tenant_id):
            return Answer(404, {"error": f"tenant: no tenant {tenant_id!r}"})
        if "x-hook-secret" in headers:
            try:
                handshake = asana_receive(headers, body, None)
            except WebhookError as exc:
                return Answer(400, {"error": str(exc)})
            assert isinstance(handshake, Handshake)
            if not self.secrets.accept_handshake(tenant_id, "asana", hook, handshake.secret):
                return Answer(401, {"error": "X-Hook-Secret: no webhook of this tenant is waiting for a handshake; "
                                             "create it with `mcc webhooks subscribe`"})  # fmt: skip
            return Answer(200, {"handshake": "accepted"}, handshake.response_headers)
        secret = self.secrets.get(tenant_id, "asana", hook)
        try:
            delivery = asana_receive(headers, body, secret)
        except InvalidSignature as exc:
            return Answer(401, {"error": str(exc)})
        except WebhookError as exc:
            return Answer(400, {"error": str(exc)})
        assert not isinstance(delivery, Handshake)
        if not delivery.events:
            return Answer(200, {"heartbeat": True})
        return self._row(tenant_id, "asana", headers, body)

    def check_workfront(self, tenant_id: str, headers: dict[str, str], body: bytes) -> Checked:
        """Token and shape of a Workfront event message: the answer, or the row to store."""
        if not self._tenant_known(tenant_id):
            return Answer(404, {"error": f"tenant: no tenant {tenant_id!r}"})
        token = self.secrets.get(tenant_id, "workfront", "default")
        offered = headers.get("authorization", "")
        offered = offered[7:] if offered[:7].lower() == "bearer " else offered
        if token is None or not offered or not hmac.compare_digest(offered.encode(), token.encode()):
            return Answer(401, {"error": "Authorization: missing or not this tenant's Workfront subscription token"})
        try:
            parse_event(body)
        except WebhookPayloadError as exc:
            return Answer(400, {"error": str(exc)})
        return self._row(tenant_id, "workfront", headers, body)


def _respond(answer: Answer) -> Response:
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


async def _body(request: Request) -> bytes | None:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        return None
    body = await request.body()
    return body if len(body) <= MAX_BODY else None


def build_app(receiver: Receiver) -> Starlette:
    """The ASGI app of the receiver."""

    async def asana(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return JSONResponse({"error": f"body: larger than {MAX_BODY} bytes"}, status_code=413)
        hook = request.query_params.get("hook", "default")
        if not _HOOK.match(hook):
            return JSONResponse({"error": "hook: 1-64 letters, digits, '-' or '_'"}, status_code=400)
        headers = {k.lower(): v for k, v in request.headers.items()}
        tenant = request.path_params["tenant"]
        if receiver.checks_in_memory(tenant, "asana", hook, headers):
            return _respond(await receiver.asana_in_loop(tenant, hook, headers, body))
        return _respond(await run_in_threadpool(receiver.asana, tenant, hook, headers, body))

    async def workfront(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return JSONResponse({"error": f"body: larger than {MAX_BODY} bytes"}, status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        tenant = request.path_params["tenant"]
        if receiver.checks_in_memory(tenant, "workfront", "default", headers):
            return _respond(await receiver.workfront_in_loop(tenant, headers, body))
        return _respond(await run_in_threadpool(receiver.workfront, tenant, headers, body))

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/webhooks/asana/{tenant}", asana, methods=["POST"]),
        Route("/webhooks/workfront/{tenant}", workfront, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ])  # fmt: skip
