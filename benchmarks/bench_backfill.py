"""Backfill of 2,000 Workfront projects / 40,000 tasks from the local wire-format server (bar: <= 5 min, 2 cores).

The whole user path: read every project and task through the REST client (paged), store the proposals, then
accept all of them (each creates its campaign, links the project and mirrors its 20 tasks as work items).
SQLite under a temporary home; prints a markdown table and exits non-zero when the bar is missed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.harness import Report
from connectors.workfront.client import WorkfrontRestClient
from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.repositories import open_store
from spine.repositories.directory import create_tenant
from sync.backfill import accept, proposals, propose
from sync.backfill_read import read_workfront
from tests.wire.workfront_server import TOKEN, WorkfrontWireServer

PROJECTS = 2_000
TASKS_PER_PROJECT = 20
BAR_SECONDS = 300.0


def _load(wire: WorkfrontWireServer) -> None:
    start = dt.date(2027, 1, 4)
    for p in range(PROJECTS):
        pid = uuid.uuid4().hex
        day = (start + dt.timedelta(days=p % 300)).isoformat()
        dates = {"plannedStartDate": day, "plannedCompletionDate": day}
        wire.state.objects["PROJ"][pid] = {"ID": pid, "objCode": "PROJ", "name": f"Existing project {p:04d}",
                                           "status": "CUR", **dates}  # fmt: skip
        for t in range(TASKS_PER_PROJECT):
            tid = uuid.uuid4().hex
            wire.state.objects["TASK"][tid] = {"ID": tid, "objCode": "TASK", "projectID": pid, "status": "INP",
                                               "name": f"Task {t} of {p}", "percentComplete": 50.0,
                                               **dates}  # fmt: skip


def main() -> int:
    report = Report(f"Backfill: {PROJECTS:,} projects / {PROJECTS * TASKS_PER_PROJECT:,} tasks (wire server, SQLite)")
    wire = WorkfrontWireServer()
    wire.start()
    try:
        _load(wire)
        with tempfile.TemporaryDirectory() as home:
            settings = load_settings(home=Path(home))
            with open_app(settings) as app:
                with app.sessions() as s, s.begin():
                    create_tenant(s, "bench", "Bench")
                with open_store(app.sessions, "bench") as store:
                    store.directory.add_user({"user_id": "ops.lead", "display_name": "Ops", "email": "o@b.example",
                                              "groups": ["campaign-managers"]})  # fmt: skip
                client = WorkfrontRestClient(wire.base_url, TOKEN, rate_per_minute=1_000_000, timeout=60)
                t0 = time.perf_counter()
                projects = asyncio.run(_read(client))
                t_read = time.perf_counter() - t0
                with app.sessions() as s, s.begin():
                    propose(s, "bench", projects)
                t_propose = time.perf_counter() - t0 - t_read
                with app.sessions() as s:
                    ids = [p.id for p in proposals(s, "bench")]
                for pid in ids:
                    with app.sessions() as s, s.begin():
                        accept(s, "bench", pid, "ops.lead", dt.date(2027, 1, 1))
                total = time.perf_counter() - t0
    finally:
        wire.stop()
    tasks = sum(len(p.tasks) for p in projects)
    report.add("read + propose + accept all", total, BAR_SECONDS, "s")
    report.notes.append(f"read {len(projects):,} projects / {tasks:,} tasks in {t_read:.1f} s, proposals in "
                        f"{t_propose:.1f} s, accepting {len(ids):,} in {total - t_read - t_propose:.1f} s")  # fmt: skip
    return report.print()


async def _read(client: WorkfrontRestClient) -> list:
    try:
        return await read_workfront(client)
    finally:
        await client.aclose()


if __name__ == "__main__":
    sys.exit(main())
