"""Concurrency of one HTTP replica: blocking work must never stall the event loop.

One ``mcc serve workfront --transport http`` process on the Workfront REST backend, against the local wire server
(tests/wire/workfront_server.py, in its own process) answering every request after 50 ms. Clients are MCP clients
over streamable HTTP in this process. Run on PostgreSQL (MCC_BENCH_POSTGRES_URL, a private schema dropped after)
and on SQLite.

Bars (issue: never block the event loop):
(a) 16 concurrent clients reach >= 8x the get_project calls/s of one client (PostgreSQL; SQLite reported).
(b) while a second connection holds ``LOCK TABLE system_refs`` for 200 ms at a time (50 ms free between), the p50
    of ``search`` calls (which read no system_refs) rises <= 20 % over the same load without the lock, while
    get_project calls (which do read it) wait. PostgreSQL only: SQLite locks the whole file, and every audited
    call writes, so a held write lock stalls every call by design.
(c) server CPU per guarded read call (get_project), from the server process's CPU time: reported, no bar.

    .venv/bin/python -m benchmarks.bench_concurrency
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.harness import Report, percentile

DELAY_S = 0.05
RUN_S = 8.0
CLIENTS = 16
SPEEDUP_BAR, P50_RISE_BAR = 8.0, 0.20
LOCK_HOLD_S, LOCK_GAP_S = 0.2, 0.05
TOKEN = "bench-token-0123456789abcdef"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/mcc_test"


# -------------------------------------------------------------------------------------------- processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[Any]) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def serve_wire() -> None:
    """Child process: the Workfront wire server with one project of 5 tasks; prints its port and project id."""
    from tests.wire.workfront_server import WireApp, WorkfrontWireServer

    server = WorkfrontWireServer()
    seed = WireApp(server.state)
    project = json.loads(seed.create("PROJ", {"name": "Bench launch", "plannedStartDate": "2027-01-04"}, None).body)
    project_id = project["data"]["ID"]
    for i in range(5):
        seed.create("TASK", {"projectID": project_id, "name": f"Task {i}"}, None)
    server.state.delay_seconds = DELAY_S
    server.start()
    print(json.dumps({"port": server.port, "project_id": project_id}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


@contextmanager
def wire_server() -> Iterator[tuple[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_concurrency", "--wire"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield f"http://127.0.0.1:{info['port']}", info["project_id"]
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)


@contextmanager
def database(backend: str, home: Path) -> Iterator[str | None]:
    """The database URL for the server (None: SQLite under home); PostgreSQL gets a private schema."""
    if backend == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, make_url, text

    base = os.environ.get("MCC_BENCH_POSTGRES_URL", PG_DEFAULT)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -------------------------------------------------------------------------------------------- clients


async def _client(url: str) -> Any:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
    return Client(streamable_http_client(url, http_client=http))


async def _loop(client: Any, tool: str, args: dict[str, Any], until: float, out: list[tuple[float, float]]) -> None:
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        result = await client.call_tool(tool, args)
        if result.is_error:
            raise RuntimeError(f"{tool}: {result.content[0].text}")
        out.append((t0, (time.perf_counter() - t0) * 1000))


async def _rate(clients: list[Any], args: dict[str, Any], pid: int) -> tuple[float, float]:
    """(calls/s, server CPU ms per call) of ``len(clients)`` clients calling get_project for RUN_S."""
    samples: list[tuple[float, float]] = []
    cpu0, t0 = _cpu_s(pid), time.perf_counter()
    await asyncio.gather(*(_loop(c, "get_project", args, t0 + RUN_S, samples) for c in clients))
    elapsed, cpu = time.perf_counter() - t0, _cpu_s(pid) - cpu0
    return len(samples) / elapsed, cpu * 1000 / len(samples)


class TableLocker:
    """Holds LOCK TABLE system_refs for LOCK_HOLD_S, lets go for LOCK_GAP_S, again, while ``on`` is set."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url)
        self.on, self.stop = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from sqlalchemy import text

        while not self.stop.is_set():
            if not self.on.wait(0.05):
                continue
            with self.engine.connect() as conn, conn.begin():
                conn.execute(text("LOCK TABLE system_refs IN ACCESS EXCLUSIVE MODE"))
                time.sleep(LOCK_HOLD_S)
            time.sleep(LOCK_GAP_S)


async def _lock_effect(clients: list[Any], project_args: dict[str, Any], db_url: str) -> tuple[float, float, int]:
    """p50 of search calls without and with the table locker (alternating 2 s windows), and get_project calls
    made meanwhile. Four clients call get_project (they read system_refs), the rest search (they do not)."""
    locker = TableLocker(db_url)
    locker.thread.start()
    free: list[tuple[float, float]] = []
    locked: list[tuple[float, float]] = []
    touching: list[tuple[float, float]] = []
    search_args = {"obj_code": "PROJ", "limit": 10}
    try:
        for window in range(6):
            use_lock = window % 2 == 1
            (locker.on.set if use_lock else locker.on.clear)()
            until = time.perf_counter() + 2.0
            bucket = locked if use_lock else free
            await asyncio.gather(*(_loop(c, "get_project", project_args, until, touching) for c in clients[:4]),
                                 *(_loop(c, "search", search_args, until, bucket) for c in clients[4:]))  # fmt: skip
            locker.on.clear()
            await asyncio.sleep(LOCK_HOLD_S + LOCK_GAP_S)  # the last hold ends before the next free window
    finally:
        locker.stop.set()
        locker.thread.join(5)
        locker.engine.dispose()
    return percentile([ms for _, ms in free], 50), percentile([ms for _, ms in locked], 50), len(touching)


async def measure(url: str, project_id: str, pid: int, db_url: str | None) -> dict[str, float]:
    args = {"project_id": project_id}
    out: dict[str, float] = {}
    clients = [await _client(url) for _ in range(CLIENTS)]
    entered = [await c.__aenter__() for c in clients]
    try:
        for c in entered:  # warm-up: connections, caches, the first audit rows
            for _ in range(3):
                await c.call_tool("get_project", args)
        out["rate1"], out["cpu1"] = await _rate(entered[:1], args, pid)
        out["rate16"], out["cpu16"] = await _rate(entered, args, pid)
        if db_url is not None:
            out["p50_free"], out["p50_locked"], out["touching"] = await _lock_effect(entered, args, db_url)
    finally:
        for c in reversed(clients):
            await c.__aexit__(None, None, None)
    return out


def run_backend(backend: str, wire_url: str, project_id: str) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix=f"mcc-bench-conc-{backend}-"))
    with database(backend, home) as db_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_")}
        env |= {"MCC_HOME": str(home), "MCC_HTTP_TOKENS": json.dumps({TOKEN: "acme/maya.chen"}),
                "MCC_WORKFRONT_RATE_PER_MINUTE": "1000000000", "MCC_WORKFRONT_BACKEND": "rest",
                "MCC_WORKFRONT_URL": wire_url, "MCC_WORKFRONT_API_KEY": "wire-test-session-0123456789"}  # fmt: skip
        if db_url is not None:
            env["MCC_DATABASE_URL"] = db_url
        seed = "from mcc.wiring import open_app\nfrom spine.demo import load_demo\n" \
               "with open_app() as app: load_demo(app.sessions)"  # fmt: skip
        subprocess.run([sys.executable, "-c", seed], env=env, check=True)
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "mcc", "serve", "workfront", "--transport", "http", "--port",
                                 str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            _wait_port(port, proc)
            return asyncio.run(measure(f"http://127.0.0.1:{port}/mcp", project_id, proc.pid, db_url))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main() -> int:
    report = Report(f"Concurrency of one HTTP replica (workfront, REST backend, wire server answering after "
                    f"{DELAY_S * 1000:.0f} ms)")  # fmt: skip
    with wire_server() as (wire_url, project_id):
        for backend in ("postgresql", "sqlite"):
            f = run_backend(backend, wire_url, project_id)
            speedup = f["rate16"] / f["rate1"]
            name = "PostgreSQL" if backend == "postgresql" else "SQLite"
            if backend == "postgresql":
                report.add(f"(a) {name}: calls/s 16 clients / 1 client", speedup, SPEEDUP_BAR, "x", True)
                rise = f["p50_locked"] / f["p50_free"] - 1
                report.add(f"(b) {name}: search p50 rise while system_refs is locked", rise * 100, P50_RISE_BAR * 100,
                           "%")  # fmt: skip
                report.notes.append(f"(b) {name}: search p50 {f['p50_free']:.1f} ms free, {f['p50_locked']:.1f} ms "
                                    f"locked; {f['touching']:.0f} get_project calls meanwhile")  # fmt: skip
            else:
                report.notes.append(f"(a) {name}: {speedup:.2f}x (reported, no bar)")
            report.notes.append(f"(c) {name}: server CPU per get_project call {f['cpu16']:.2f} ms with {CLIENTS} "
                                f"clients, {f['cpu1']:.2f} ms with 1 (reported, no bar); {f['rate1']:.1f} calls/s "
                                f"with 1 client, {f['rate16']:.1f} with {CLIENTS}")  # fmt: skip
    report.notes.append(f"load average at the end: {os.getloadavg()[0]:.2f} (other processes share the CPU)")
    return report.print()


if __name__ == "__main__":
    if sys.argv[1:] == ["--wire"]:
        serve_wire()
        sys.exit(0)
    sys.exit(main())
