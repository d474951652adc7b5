"""A campaign-setup worker process for the kill tests: ``python -m tests.sync.setup_harness ...``.

It binds the workflow's services (spine at --spine, sandboxes under --home), launches DBOS on --dbos, enqueues the
request when --enqueue is given (else DBOS recovers the unfinished one at launch) and waits for it to end, printing
the run as JSON. With --stop POINT it freezes there, after writing --home/stopped, so the test can SIGKILL it: POINT is
``STEP`` (before the step runs), ``STEP:done`` (its effects committed, its DBOS record not yet written) or
``create@N`` (right after the N-th external create of this process returned).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from dbos import DBOS

from spine.db import make_engine, make_session_factory
from sync.campaign_setup import request_id_for, serving, workflow_id_for
from sync.durable import DurableConfig, launch_durable
from sync.setup_client import FINAL, CampaignSetupClient
from sync.setup_systems import SetupSystem, SystemName
from tests.sync.setup_world import TENANT, campaign_fields, sandbox_systems, services


def _freeze(home: Path, point: str) -> None:
    (home / "stopped.tmp").write_text(point)
    os.replace(home / "stopped.tmp", home / "stopped")  # atomic: the test never reads it half-written
    time.sleep(3600)  # the test kills this process here


class _StopAfterCreates:
    """A SetupSystem that freezes the process right after its ``n``-th create (counted across backends)."""

    def __init__(self, inner: SetupSystem, home: Path, n: int, seen: list[int]) -> None:
        self.inner, self.home, self.n, self.seen = inner, home, n, seen
        self.name = inner.name

    def _count(self) -> None:
        self.seen[0] += 1
        if self.seen[0] == self.n:
            _freeze(self.home, f"create@{self.n}")

    async def create_project(self, *args: Any) -> str:
        made = await self.inner.create_project(*args)
        self._count()
        return made

    async def project_exists(self, project_id: str) -> bool:
        return await self.inner.project_exists(project_id)

    async def create_section(self, *args: Any) -> str:
        made = await self.inner.create_section(*args)
        self._count()
        return made

    async def create_task(self, *args: Any) -> str:
        made = await self.inner.create_task(*args)
        self._count()
        return made

    async def assign(self, task_id: str, external_user: str) -> None:
        await self.inner.assign(task_id, external_user)

    async def aclose(self) -> None:
        await self.inner.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spine", required=True)
    ap.add_argument("--home", required=True, type=Path)
    ap.add_argument("--dbos", required=True)
    ap.add_argument("--dbos-schema", default="dbos")
    ap.add_argument("--key", required=True)
    ap.add_argument("--kind", default="standard")
    ap.add_argument("--stop")
    ap.add_argument("--enqueue", action="store_true")
    ap.add_argument("--campaign-id", help="set up this existing campaign (its linked project adopted)")
    a = ap.parse_args()

    engine = make_engine(a.spine)
    sessions = make_session_factory(engine)
    stop: str | None = a.stop
    systems = sandbox_systems(a.home)
    if stop and stop.startswith("create@"):
        n, seen, base = int(stop.removeprefix("create@")), [0], systems

        def systems(tenant: str, system: SystemName) -> SetupSystem:
            return _StopAfterCreates(base(tenant, system), a.home, n, seen)  # type: ignore[return-value]

    def observer(point: str, request_id: str) -> None:
        if point == stop:
            _freeze(a.home, point)

    config = DurableConfig(a.dbos, schema=a.dbos_schema, polling_interval_sec=0.1, log_level="ERROR")
    wid = workflow_id_for(request_id_for(TENANT, a.key))
    bound = services(sessions, a.home, systems=systems, observer=observer, retry_interval_sec=0.1)
    with serving(bound), launch_durable(config):
        client = CampaignSetupClient(config)
        if a.enqueue:
            fields = None if a.campaign_id else campaign_fields(a.kind)
            client.start(tenant_id=TENANT, actor="maya.chen", fields=fields, idempotency_key=a.key,
                         campaign_id=a.campaign_id)  # fmt: skip
        while (status := DBOS.get_workflow_status(wid)) is None or status.status not in FINAL:
            time.sleep(0.05)
        run = client.get(wid)
    assert run is not None
    print(json.dumps({"status": run.status, "error": run.error, "result": run.result,
                      "steps": {s.name: s.state for s in run.steps}}))  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
