"""kill -9 of a webhook worker (a real `mcc sync worker` subprocess on the DBOS queue) in the middle of
processing, then a restart: every delivery is applied exactly once, nothing is lost, the audit chain verifies."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.audit import AuditLog
from spine.models import EventLog, WebhookDelivery, WorkItem
from spine.models.governance import AuditEntry
from tests.sync.inbound_world import AUDIT_KEY, T0, build_world, deliver, task_update

N = 60


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_")}
    env.update(MCC_HOME=str(home), MCC_AUDIT_KEY=AUDIT_KEY.decode(), MCC_DBOS_POLLING_SEC="0.1")
    return env


def _worker(home: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "mcc", "sync", "worker", "--sweep-every", "0.3", "--until-idle", "--batch", "4"]
    return subprocess.Popen(cmd, env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _counts(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        rows = s.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all()
        return {str(k): int(v) for k, v in rows}


def test_kill_9_mid_processing_then_restart(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    for k, v in _env(home).items():
        monkeypatch.setenv(k, v)
    with open_app(load_settings()) as app:
        world = build_world(app.sessions, tasks=N)
        for n in range(N):  # one delivery per task, in any order: every one must apply exactly once
            body = task_update(world, n, T0 + dt.timedelta(seconds=n), {"percentComplete": 0}, {"percentComplete": 7})
            assert deliver(world, body).created
        proc = _worker(home)
        deadline = time.monotonic() + 60
        while _counts(app.sessions).get("processed", 0) < 10:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the worker processed nothing"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        mid = _counts(app.sessions)
        assert mid.get("received", 0) > 0, f"killed too late to test anything: {mid}"

        proc = _worker(home)
        try:
            _, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
        assert proc.returncode == 0, err.decode()
        assert _counts(app.sessions) == {"processed": N}
        with app.sessions() as s:
            assert s.scalar(select(func.max(WebhookDelivery.attempts))) == 1
            updated = s.scalar(select(func.count()).select_from(EventLog).where(
                EventLog.event_type == "work_item.updated"))  # fmt: skip
            assert updated == N
            percents = [s.get(WorkItem, i).percent_complete for i in world.item_ids]  # type: ignore[union-attr]
            assert percents == [7] * N
            audited = s.scalars(select(AuditEntry.detail).where(AuditEntry.tool == "webhook.workfront")).all()
            assert sum(d["deliveries"] for d in audited) == N
        assert AuditLog(app.sessions, key=AUDIT_KEY).verify().ok


def test_serve_webhooks_receives_and_processes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import socket

    import httpx

    from mcc.inbound import webhook_secrets

    home = tmp_path / "home"
    for k, v in _env(home).items():
        monkeypatch.setenv(k, v)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open_app(load_settings()) as app:
        world = build_world(app.sessions)
        webhook_secrets(app).set_secret("acme", "workfront", "default", "serve-test-token-0123456789")
        cmd = [sys.executable, "-m", "mcc", "serve", "webhooks", "--port", str(port)]
        proc = subprocess.Popen(cmd, env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None and time.monotonic() < deadline, "the receiver did not start"
                try:
                    if httpx.get(base + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            body = task_update(world, 0, T0, {"status": "NEW"}, {"status": "CPL", "percentComplete": 100})
            auth = {"Authorization": "Bearer serve-test-token-0123456789"}
            assert httpx.post(f"{base}/webhooks/workfront/acme", content=body, headers=auth).status_code == 200
            assert httpx.post(f"{base}/webhooks/workfront/acme", content=body).status_code == 401
            while _counts(app.sessions) != {"processed": 1}:
                assert time.monotonic() < deadline, _counts(app.sessions)
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(30)
        with app.sessions() as s:
            assert s.get(WorkItem, world.item_ids[0]).status == "completed"  # type: ignore[union-attr]
