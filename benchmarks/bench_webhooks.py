"""Inbound webhooks on SQLite (bars from issue 18):

1. Ingest: >= 300 deliveries/s sustained through the real HTTP receiver as deployed for heavy traffic
   (`mcc serve webhooks --no-worker` in its own process: checks, stores, acknowledges), each request signed
   (Asana HMAC) or token-checked (Workfront) and de-duplicated (one in ten is a redelivery), from 16 concurrent
   keep-alive connections for 20 s.
2. Processing: 10,000 work-item events (one Workfront TASK update per delivery, each in its own transaction
   with its outbox events, rollup and audit row) processed into the spine in <= 30 s.

Reported without a bar: the end-to-end rate with a `mcc sync worker` process draining the inbox while the
receiver ingests (first request to last delivery processed), and the default one-process deployment
(`mcc serve webhooks`, its queue worker inside). The load generator writes HTTP/1.1 on raw sockets so that on a
small machine it takes little of the CPU the server needs (a full HTTP client costs more per request than the
receiver). Prints a markdown table; exits non-zero when a bar is missed.
Run: `.venv/bin/python -m benchmarks.bench_webhooks`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from benchmarks.harness import Report
from connectors.asana.webhooks import sign
from mcc.inbound import webhook_secrets
from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.models import WebhookDelivery, WorkItem
from sync import inbox
from sync.process import process_pending
from tests.sync.inbound_world import TENANT, build_world, task_update

INGEST_SECONDS = 20.0
DEFAULT_MODE_SECONDS = 10.0
CONCURRENCY = 16
INGEST_BAR = 300.0
EVENTS = 10_000
TASKS = 500
PROCESS_BAR = 30.0
WF_TOKEN = "bench-workfront-token-0123456789abcdef"
ASANA_SECRET = "bench-asana-secret-0123456789abcdef"
ASANA_HOOK = "1200000000000001"
AUDIT_KEY = "inbound-test-audit-key-0123456789"
Delivery = tuple[str, bytes, dict[str, str]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bodies(world, n: int) -> list[Delivery]:  # type: ignore[no-untyped-def]
    t0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    out: list[Delivery] = []
    for k in range(n):
        if k % 10 == 9:  # a redelivery of an earlier message
            out.append(out[k - 5])
            continue
        if k % 2:
            ev = {"action": "changed", "resource": {"gid": str(1_300_000_000_000_000 + k), "resource_type": "task"},
                  "created_at": (t0 + dt.timedelta(seconds=k)).isoformat()}  # fmt: skip
            body = json.dumps({"events": [ev]}).encode()
            out.append(
                (f"/webhooks/asana/{TENANT}?hook={ASANA_HOOK}", body, {"X-Hook-Signature": sign(body, ASANA_SECRET)})
            )
        else:
            body = task_update(world, k % len(world.task_ids), t0 + dt.timedelta(seconds=k), {"percentComplete": 0},
                               {"percentComplete": k % 100})  # fmt: skip
            out.append((f"/webhooks/workfront/{TENANT}", body, {"Authorization": f"Bearer {WF_TOKEN}"}))
    return out


@dataclass
class Load:
    """What the clients sent and what came back."""

    sent: int = 0
    ok: int = 0
    duplicates: int = 0  # answered 200 with "duplicate": true
    seconds: float = 0.0
    indexes: set[int] = field(default_factory=set)  # which deliveries were acknowledged


async def _load(port: int, deliveries: list[Delivery], seconds: float) -> Load:
    """CONCURRENCY keep-alive connections posting deliveries in turn for ``seconds``."""
    out = Load()
    stop = time.perf_counter() + seconds

    async def client(w: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = w
        while time.perf_counter() < stop:
            path, body, headers = deliveries[i % len(deliveries)]
            head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + f"Content-Length: {len(body)}\r\n\r\n"
            writer.write(head.encode() + body)
            status, length = (await reader.readline()).split()[1], 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                length = int(value) if name.lower() == b"content-length" else length
            answer = await reader.readexactly(length)
            out.sent += 1
            if status == b"200":
                out.ok += 1
                out.duplicates += b'"duplicate":true' in answer
                out.indexes.add(i % len(deliveries))
            i += CONCURRENCY
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(w) for w in range(CONCURRENCY)))
    out.seconds = time.perf_counter() - t0
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_")}
    env.update(MCC_HOME=str(home), MCC_AUDIT_KEY=AUDIT_KEY)
    os.environ.update(MCC_HOME=str(home), MCC_AUDIT_KEY=AUDIT_KEY)
    return env


def _serve(home: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "mcc", "serve", "webhooks", "--port", str(port), *extra]
    server = subprocess.Popen(cmd, env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the receiver did not start in 30 s")


def _worker(home: Path) -> subprocess.Popen[bytes]:
    """A `mcc sync worker`, returned once it has launched DBOS and swept the inbox."""
    log = home / "worker.log"
    with log.open("wb") as err:
        worker = subprocess.Popen([sys.executable, "-m", "mcc", "sync", "worker"], env=_env(home),
                                  stdout=subprocess.DEVNULL, stderr=err)  # fmt: skip
    for _ in range(600):
        if b"sync worker:" in log.read_bytes():
            return worker
        time.sleep(0.1)
    worker.kill()
    raise RuntimeError(f"the worker did not start in 60 s: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    proc.send_signal(sig)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _statuses(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with app.sessions() as s:
        q = select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        return {str(k): int(v) for k, v in s.execute(q)}


def _prepared(app, n: int = 60_000) -> list[Delivery]:  # type: ignore[no-untyped-def]
    world = build_world(app.sessions, tasks=50)
    secrets = webhook_secrets(app)
    secrets.set_secret(TENANT, "workfront", "default", WF_TOKEN)
    secrets.set_secret(TENANT, "asana", ASANA_HOOK, ASANA_SECRET)
    return _bodies(world, n)


def _distinct(deliveries: list[Delivery], load: Load) -> int:
    return len({deliveries[i][1] for i in load.indexes})


def _direct(app, deliveries: list[Delivery]) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds (of the whole process: the writer thread too) per delivery through the receiver's own path (no
    HTTP), one at a time, on fresh bodies."""
    from mcc.inbound import receiver

    rec = receiver(app)
    fresh = [(p, b.replace(b'"sub1"', b'"sub2"'), h) for p, b, h in deliveries if "workfront" in p]
    start = time.process_time()
    for _, body, headers in fresh:
        rec.workfront(TENANT, {k.lower(): v for k, v in headers.items()}, body)
    return (time.process_time() - start) / max(1, len(fresh))


def _load_note() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def ingest(report: Report, home: Path) -> None:
    """The receiver alone (`--no-worker`): the ingest bar."""
    _env(home)
    with open_app(load_settings()) as app:
        deliveries = _prepared(app)
        port = _free_port()
        server = _serve(home, port, "--no-worker")
        try:
            cpu0 = _cpu_seconds(server.pid)
            load = asyncio.run(_load(port, deliveries, INGEST_SECONDS))
            server_cpu = _cpu_seconds(server.pid) - cpu0
            during = _load_note()
        finally:
            _stop(server)
        statuses = _statuses(app)
        stored = sum(statuses.values())
        assert statuses == {"received": stored}, statuses  # the receiver alone stores and never processes
        assert stored == _distinct(deliveries, load), (stored, _distinct(deliveries, load))
        direct = _direct(app, deliveries[:2000])
    rate = load.ok / load.seconds
    report.add("webhook ingest, receiver only (HTTP, checked, de-duplicated, stored)", rate, INGEST_BAR,
               "deliveries/s", True)  # fmt: skip
    report.notes.append(f"ingest (`mcc serve webhooks --no-worker`): {load.sent:,} requests in {load.seconds:.1f} s "
                        f"from {CONCURRENCY} keep-alive connections, {load.ok:,} answered 200 ({load.duplicates:,} as "
                        f"duplicates), {stored:,} distinct deliveries stored, each once; {during}. Server CPU "
                        f"{server_cpu / max(1, load.sent) * 1000:.2f} ms per request; the receiver's own path without "
                        f"HTTP, one delivery at a time (check, de-duplicate, store: no group to share a commit with) "
                        f"{direct * 1000:.2f} ms CPU per delivery")  # fmt: skip


def end_to_end(report: Report, home: Path) -> None:
    """The receiver alone with a `mcc sync worker` process draining the inbox at the same time."""
    _env(home)
    with open_app(load_settings()) as app:
        deliveries = _prepared(app)
        port = _free_port()
        server = _serve(home, port, "--no-worker")
        worker = _worker(home)
        try:
            cpu0 = _cpu_seconds(server.pid), _cpu_seconds(worker.pid)
            start = time.perf_counter()
            load = asyncio.run(_load(port, deliveries, INGEST_SECONDS))
            during = _load_note()
            deadline = time.monotonic() + 600
            while (waiting := _statuses(app).get("received", 0)) and time.monotonic() < deadline:
                time.sleep(0.05)
            elapsed = time.perf_counter() - start
            cpu = _cpu_seconds(server.pid) - cpu0[0], _cpu_seconds(worker.pid) - cpu0[1]
        finally:
            _stop(worker, signal.SIGINT)
            _stop(server)
        statuses = _statuses(app)
        with app.sessions() as s:
            attempts = s.scalar(select(func.max(WebhookDelivery.attempts)))
    stored = sum(statuses.values())
    assert not waiting and "failed" not in statuses, statuses
    assert stored == _distinct(deliveries, load) and attempts == 1, (stored, attempts)
    report.notes.append(f"end to end (`mcc serve webhooks --no-worker` + one `mcc sync worker`, no bar): "
                        f"{stored / elapsed:,.0f} deliveries/s from the first request to the last delivery processed "
                        f"({stored:,} distinct deliveries, {load.sent:,} requests in {load.seconds:.1f} s, ingest "
                        f"{load.ok / load.seconds:,.0f}/s while the worker ran, drained {elapsed - load.seconds:.1f} s "
                        f"after the last request; {statuses}, each applied once); {during}. CPU per delivery: "
                        f"receiver {cpu[0] / max(1, load.sent) * 1000:.2f} ms per request, worker "
                        f"{cpu[1] / max(1, stored) * 1000:.2f} ms")  # fmt: skip


def default_mode(report: Report, home: Path) -> None:
    """`mcc serve webhooks` as one process (its queue worker inside), for comparison."""
    _env(home)
    with open_app(load_settings()) as app:
        deliveries = _prepared(app)
        port = _free_port()
        server = _serve(home, port)
        try:
            cpu0 = _cpu_seconds(server.pid)
            load = asyncio.run(_load(port, deliveries, DEFAULT_MODE_SECONDS))
            server_cpu = _cpu_seconds(server.pid) - cpu0
            during = _load_note()
        finally:
            _stop(server)
    report.notes.append(f"one process (`mcc serve webhooks`, its worker inside, no bar): ingest "
                        f"{load.ok / load.seconds:,.0f} deliveries/s over {load.seconds:.0f} s; server CPU "
                        f"{server_cpu / max(1, load.sent) * 1000:.2f} ms per request including processing; "
                        f"{during}")  # fmt: skip


def processing(report: Report, home: Path) -> None:
    _env(home)
    with open_app(load_settings()) as app:
        world = build_world(app.sessions, tasks=TASKS)
        t0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        for k in range(EVENTS):
            body = task_update(world, k % TASKS, t0 + dt.timedelta(seconds=k), {"percentComplete": 0},
                               {"percentComplete": 1 + k // TASKS, "status": "INP"})  # fmt: skip
            inbox.store(app.sessions, TENANT, "workfront", inbox.delivery_id_for(body), {}, body)
        audit = app.audit_log()
        start = time.perf_counter()
        done = process_pending(app.sessions, audit, limit=EVENTS)
        elapsed = time.perf_counter() - start
        with app.sessions() as s:
            final = set(s.scalars(select(WorkItem.percent_complete).where(WorkItem.tenant_id == TENANT)))
        assert done == {"processed": EVENTS}, done
        assert final == {EVENTS // TASKS}, final
        assert audit.verify().ok
    report.add(f"{EVENTS:,} work-item events processed into the spine", elapsed, PROCESS_BAR, "s")
    report.notes.append(f"processing: {EVENTS / elapsed:,.0f} events/s in transactions of up to 200 deliveries (each "
                        f"delivery all or nothing: changes, outbox events, inbox status; one rollup per campaign and "
                        f"one audit row per batch); audit chain verified")  # fmt: skip


def main() -> int:
    report = Report("Inbound webhooks (SQLite)")
    with tempfile.TemporaryDirectory() as root:
        for name, phase in (("ingest", ingest), ("e2e", end_to_end), ("one", default_mode), ("proc", processing)):
            home = Path(root) / name
            home.mkdir()
            phase(report, home)
    return report.print()


if __name__ == "__main__":
    sys.exit(main())
