"""The webhook receiver (Starlette): ``POST /webhooks/asana/{tenant}`` and ``POST /webhooks/workfront/{tenant}``.

Asana: the X-Hook-Secret handshake is echoed (only for a hook being subscribed), X-Hook-Signature is the
HMAC-SHA256 of the raw body, an empty event list is a heartbeat (200, nothing stored). Workfront: the shared token
given as the subscription's ``authToken`` comes back in ``Authorization``. Bad signature or token -> 401 and
nothing stored; malformed -> 400; unknown tenant -> 404. An accepted delivery is stored in the inbox (duplicates
ignored), then acknowledged, then handed to ``on_stored`` (the queue). Database work runs in worker threads.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
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


@dataclass(slots=True)
class _Pending:
    """A row waiting for the write turn, then what storing it gave."""

    row: dict[str, Any]
    stored: inbox.Stored | None = None
    error: Exception | None = None


@dataclass
class Receiver:
    """Checks, stores and acknowledges deliveries; ``on_stored(inbox_id)`` queues a new one for processing."""

    sessions: sessionmaker[Session]
    secrets: WebhookSecrets
    on_stored: Callable[[str], None] | None = None
    _tenants: dict[str, float] = field(default_factory=dict, repr=False)
    # SQLite has one writer: request threads take turns, and whoever has the turn commits every row waiting then.
    _write_turn: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _waiting: list[_Pending] = field(default_factory=list, repr=False)
    _waiting_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _tenant_known(self, tenant_id: str) -> bool:
        if self._tenants.get(tenant_id, 0.0) > time.monotonic():
            return True
        with self.sessions() as s:
            known = s.get(Tenant, tenant_id) is not None
        if known:
            self._tenants[tenant_id] = time.monotonic() + TENANT_CACHE_SECONDS
        return known

    def _store(self, tenant_id: str, system: str, headers: dict[str, str], body: bytes) -> Answer:
        try:
            new = inbox.row(tenant_id, system, inbox.delivery_id_for(body, headers), headers, body)
        except UnicodeDecodeError:
            return Answer(400, {"error": "body: not UTF-8 text"})
        if self.sessions.kw["bind"].dialect.name == "sqlite":
            stored = self._store_in_turn(new)
        else:  # PostgreSQL takes concurrent writers: each request commits its own row
            stored = inbox.store_many(self.sessions, [new])[0]
        if stored.created and self.on_stored is not None:
            try:
                self.on_stored(stored.id)
            except Exception:
                log.warning("delivery %s stored but not queued; the sweep will pick it up", stored.id)
        return Answer(200, {"inbox_id": stored.id, "duplicate": not stored.created})

    def _store_in_turn(self, new: dict[str, Any]) -> inbox.Stored:
        """Group commit: the row joins the waiting ones; the thread holding the write turn stores them all in one
        transaction (one commit instead of one per request) and hands each thread its answer."""
        pending = _Pending(new)
        with self._waiting_lock:
            self._waiting.append(pending)
        with self._write_turn:
            if pending.stored is None and pending.error is None:  # nobody stored it while this thread waited
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                try:
                    results = inbox.store_many(self.sessions, [p.row for p in batch])
                except Exception as exc:  # every request of the failed transaction answers 500; senders retry
                    for p in batch:
                        p.error = exc
                else:
                    for p, result in zip(batch, results, strict=True):
                        p.stored = result
        if pending.error is not None:
            raise pending.error
        assert pending.stored is not None
        return pending.stored

    def asana(self, tenant_id: str, hook: str, headers: dict[str, str], body: bytes) -> Answer:
        """One request to the Asana target of ``tenant_id`` (``hook``: which webhook, default ``default``)."""
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
        return self._store(tenant_id, "asana", headers, body)

    def workfront(self, tenant_id: str, headers: dict[str, str], body: bytes) -> Answer:
        """One Workfront event message for ``tenant_id``."""
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
        return self._store(tenant_id, "workfront", headers, body)


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
        return _respond(await run_in_threadpool(receiver.asana, tenant, hook, headers, body))

    async def workfront(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return JSONResponse({"error": f"body: larger than {MAX_BODY} bytes"}, status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        tenant = request.path_params["tenant"]
        return _respond(await run_in_threadpool(receiver.workfront, tenant, headers, body))

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/webhooks/asana/{tenant}", asana, methods=["POST"]),
        Route("/webhooks/workfront/{tenant}", workfront, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ])  # fmt: skip
