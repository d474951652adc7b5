"""`mcc serve webhooks --no-worker` (a real receiver process that only stores) beside a real `mcc sync worker`
process on the same database (a SQLite file, or PostgreSQL holding the DBOS queues too): deliveries sent from
concurrent threads, each twice, while the worker drains the inbox. Every delivery is stored once, answered once as
new and once as a duplicate, and applied exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from mcc.inbound import webhook_secrets
from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.audit import AuditLog
from spine.models import EventLog, WebhookDelivery, WorkItem
from spine.models.governance import AuditEntry
from tests.sync.inbound_world import AUDIT_KEY, T0, TENANT, build_world, task_update

N = 40
TOKEN = "split-test-token-0123456789abcdef"


def _env(home: Path, db_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_")}
    env.update(MCC_HOME=str(home), MCC_AUDIT_KEY=AUDIT_KEY.decode(), MCC_DBOS_POLLING_SEC="0.1")
    if db_url is not None and db_url.startswith("postgresql"):  # the queues in a schema of this test's own
        env.update(MCC_DATABASE_URL=db_url, MCC_DBOS_SCHEMA=f"dbos_{uuid.uuid4().hex[:12]}")
    return env


@pytest.fixture
def env(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = _env(tmp_path / "home", db_url)
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    yield values
    if "MCC_DBOS_SCHEMA" in values:
        admin = create_engine(make_url(db_url).set(query={}), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{values["MCC_DBOS_SCHEMA"]}" CASCADE'))
        admin.dispose()


def _counts(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        rows = s.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all()
        return {str(k): int(v) for k, v in rows}


def _wait_up(proc: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "the receiver exited"
        assert time.monotonic() < deadline, "the receiver did not start"
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)


def test_receiver_without_worker_beside_a_worker_process(env: dict[str, str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/webhooks/workfront/{TENANT}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with open_app(load_settings()) as app:
        world = build_world(app.sessions, tasks=N)
        webhook_secrets(app).set_secret(TENANT, "workfront", "default", TOKEN)
        bodies = [task_update(world, n, T0 + dt.timedelta(seconds=n), {"percentComplete": 0}, {"percentComplete": 9})
                  for n in range(N)]  # fmt: skip
        serve = [sys.executable, "-m", "mcc", "serve", "webhooks", "--no-worker", "--port", str(port)]
        receiver = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        worker: subprocess.Popen[bytes] | None = None
        try:
            _wait_up(receiver, base)
            first = httpx.post(url, content=bodies[0], headers=auth)
            assert first.status_code == 200 and first.json()["duplicate"] is False
            assert httpx.post(url, content=bodies[1]).status_code == 401  # no token: refused, nothing stored
            time.sleep(1.0)  # the receiver alone stores and never processes
            assert _counts(app.sessions) == {"received": 1}

            worker = subprocess.Popen([sys.executable, "-m", "mcc", "sync", "worker", "--sweep-every", "0.1",
                                       "--batch", "4"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)  # fmt: skip
            # Every body twice (the first one a third time), from 8 threads, while the worker drains the inbox.
            order = [bodies[n // 2] for n in range(2 * N)] + [bodies[0]]
            with httpx.Client() as client, ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda b: client.post(url, content=b, headers=auth), order))
            assert [a.status_code for a in answers] == [200] * len(order)
            by_body: dict[bytes, list[dict[str, object]]] = {}
            for body, answer in zip(order, answers, strict=True):
                by_body.setdefault(body, []).append(answer.json())
            for body, got in by_body.items():
                assert len({a["inbox_id"] for a in got}) == 1, got  # one row per delivery, whoever asked
                new = [a for a in got if a["duplicate"] is False]
                assert len(new) == (0 if body == bodies[0] else 1), got

            deadline = time.monotonic() + 120
            while _counts(app.sessions) != {"processed": N}:
                assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
                assert time.monotonic() < deadline, _counts(app.sessions)
                time.sleep(0.1)
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGINT)
                worker.wait(30)
            receiver.terminate()
            receiver.wait(30)
        with app.sessions() as s:
            assert s.scalar(select(func.max(WebhookDelivery.attempts))) == 1
            updated = s.scalar(select(func.count()).select_from(EventLog).where(
                EventLog.event_type == "work_item.updated"))  # fmt: skip
            assert updated == N
            assert [s.get(WorkItem, i).percent_complete for i in world.item_ids] == [9] * N  # type: ignore[union-attr]
            audited = s.scalars(select(AuditEntry.detail).where(AuditEntry.tool == "webhook.workfront")).all()
            assert sum(d["deliveries"] for d in audited) == N
        assert AuditLog(app.sessions, key=AUDIT_KEY).verify().ok


def test_no_worker_is_refused_for_mcp_servers(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from mcc.cli import app as cli

    for k, v in _env(tmp_path / "home").items():
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(cli, ["serve", "spine", "--transport", "http", "--no-worker"])
    assert result.exit_code == 2
    assert "--no-worker" in result.output
