"""Approval notifications end to end: a real approval request, the sweep, a local SMTP server (aiosmtpd) and a local
HTTP receiver speaking the Slack incoming-webhook answers; retries on failure; the approval never waits on them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from mcp import Client

from mcc.approvals_service import sweep
from mcc.notifications.dispatch import deliver_due
from mcc.settings import load_settings
from mcc.wiring import App, open_app
from mcp_servers.guard.identity import FixedPrincipal
from spine.demo import load_demo
from spine.notifications import ChannelStore, Outbox

CAMPAIGN = {"name": "Harbour Lights Expo", "type": "standard", "tier": 2, "launch_date": "2027-10-04",
            "owner_id": "maya.chen", "budget_planned": {"amount": "45000", "currency": "EUR"}}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class SlackReceiver:
    """Answers like a Slack incoming webhook: 200 "ok", or (``fail`` times first) 500 / 404 "no_service"."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.fail = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"internal_error")
                    return
                if self.path != "/services/T0/B0/secret" or self.headers.get("Content-Type") != "application/json":
                    self.send_response(404)
                    self.end_headers()
                    self.wfile.write(b"no_service")
                    return
                payload = json.loads(body)
                if not isinstance(payload.get("text"), str) or not payload["text"]:
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(b"invalid_payload")
                    return
                receiver.posts.append(payload)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def slack() -> Iterator[tuple[SlackReceiver, str]]:
    receiver = SlackReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver, f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/secret"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    for var in ("MCC_DATABASE_URL", "MCC_POLICY_MODE", "MCC_USER", "MCC_TENANT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    with open_app(load_settings()) as a:
        load_demo(a.sessions)
        yield a


def _request_approval(app: App, user: str = "maya.chen") -> dict[str, Any]:
    async def go() -> Any:
        async with Client(app.spine_server(FixedPrincipal(app.principal(user)))) as client:
            return (await client.call_tool("create_campaign", CAMPAIGN)).structured_content

    out = asyncio.run(go())
    assert out["status"] == "approval_required"
    return out


def _channels(app: App, monkeypatch: pytest.MonkeyPatch, webhook: str, smtp_port: int) -> None:
    monkeypatch.setenv("TEST_SLACK_WEBHOOK", webhook)
    store = ChannelStore(app.sessions)
    store.set("acme", "slack", "slack", {}, secret_ref="env:TEST_SLACK_WEBHOOK")
    store.set("acme", "mail", "email", {"host": "127.0.0.1", "port": smtp_port, "sender": "mcc@acme.test",
                                        "starttls": False})  # fmt: skip


def test_a_request_notifies_the_group_by_mail_and_slack_once(app: App, smtp: Any, slack: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    (box, port), (receiver, webhook) = smtp, slack
    _channels(app, monkeypatch, webhook, port)
    pending = _request_approval(app)
    report, delivery = sweep(app)
    assert report.notified == 1 and delivery is not None and delivery.sent == 2
    ((rcpts, msg),) = box.messages
    leadership = {app.principal(u).user_id for u in ("dana.reyes", "victor.hale")}
    assert len(rcpts) == len(leadership)  # every member of marketing-leadership, nobody else
    assert pending["approval_id"] in msg.get_payload() and "marketing-leadership" in msg["Subject"]
    (post,) = receiver.posts
    assert f"/approvals/{pending['approval_id']}" in post["text"] and "create_campaign" in post["text"]
    again, delivery = sweep(app)
    assert again.queued == 0 and delivery is not None and delivery.sent == 0
    assert len(box.messages) == 1 and len(receiver.posts) == 1


def test_a_failing_webhook_is_retried_and_logged_and_the_mail_still_goes(
    app: App, smtp: Any, slack: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (box, port), (receiver, webhook) = smtp, slack
    _channels(app, monkeypatch, webhook, port)
    receiver.fail = 1
    _request_approval(app)
    _report, delivery = sweep(app)
    assert delivery is not None and delivery.sent == 1 and delivery.retrying == 1
    assert "will retry" in caplog.text and "secret" not in caplog.text  # the webhook URL is never logged
    retry_now = Outbox(app.sessions, first_retry=dt.timedelta(0))
    (slack_row,) = [r for r in retry_now.list("acme") if r.channel == "slack"]
    assert slack_row.status == "pending" and slack_row.attempts == 1 and "500" in (slack_row.last_error or "")
    # The claim lease keeps it until its retry time; move the retry time to now as the backoff would.
    from sqlalchemy import update

    from spine.models.approval_workflow import NotificationOutboxItem

    with app.sessions.begin() as s:
        s.execute(update(NotificationOutboxItem).values(next_attempt_at=dt.datetime.now(dt.UTC)))
    assert deliver_due(app.settings, app.sessions, retry_now).sent == 1
    assert len(receiver.posts) == 1 and len(box.messages) == 1


def test_an_unreachable_smtp_server_never_blocks_the_approval(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    ChannelStore(app.sessions).set("acme", "mail", "email", {"host": "127.0.0.1", "port": _free_port(),
                                                             "sender": "mcc@acme.test", "starttls": False})  # fmt: skip
    pending = _request_approval(app)
    from mcc.approvals_service import decide, desk

    _report, delivery = sweep(app)
    assert delivery is not None and delivery.retrying == 1 and delivery.sent == 0
    # The approval is untouched by the failed notification: an approver resolves it as usual.
    row = decide(app, app.principal("dana.reyes"), pending["approval_id"], "approve", "ok")
    assert row.status == "approved"
    assert desk(app).get("acme", pending["approval_id"]).status == "approved"
