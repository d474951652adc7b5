"""kill -9 in the middle of a propagation, then a restart: the change is finished and nothing is sent twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from dbos import DBOS
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sync.durable import DurableConfig, launch_durable
from sync.outbound import Outbound
from tests.sync.outbound_helpers import T, edit, link, new_campaign, puts, sync_state, wire_opener, wire_project
from tests.wire.workfront_server import TOKEN, WorkfrontWireServer, workfront_wire, workfront_wire_server

__all__ = ["workfront_wire", "workfront_wire_server"]
ROOT = Path(__file__).resolve().parents[2]


def test_kill_9_mid_propagation_then_restart_sends_nothing_twice(
    session_factory: sessionmaker[Session], engine: Engine, workfront_wire: WorkfrontWireServer, tmp_path: Path
) -> None:
    cid = new_campaign(session_factory)
    pid = wire_project(workfront_wire)
    link(session_factory, cid, "workfront", pid)
    edit(session_factory, cid, name="Spring Launch (renamed)")
    gate = workfront_wire.state.write_gate = (
        threading.Event()
    )  # the PUT is applied; its answer never reaches the worker
    dbos_url = f"sqlite:///{tmp_path / 'dbos.sqlite'}"
    name = f"outbound-kill-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "tests.sync.outbound_worker", engine.url.render_as_string(hide_password=False),
            dbos_url, workfront_wire.base_url, TOKEN, name, T]  # fmt: skip
    worker = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not puts(workfront_wire, pid):
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker never sent the update"
            time.sleep(0.05)
    finally:
        worker.kill()  # SIGKILL: no cleanup, DBOS left the workflow PENDING mid-step
        worker.wait()
    assert workfront_wire.state.objects["PROJ"][pid]["name"] == "Spring Launch (renamed)"
    assert sync_state(session_factory, cid, "workfront").status == "syncing"
    gate.set()

    # The restarted process registers the propagator under the same name, so DBOS finds it for recovery.
    Outbound(session_factory, wire_opener(workfront_wire), config_name=name)
    with launch_durable(DurableConfig(system_database_url=dbos_url, polling_interval_sec=0.05)):
        (wf,) = [w for w in DBOS.list_workflows() if w.name.endswith("propagate")]
        assert DBOS.retrieve_workflow(wf.workflow_id).get_result(polling_interval_sec=0.05) == "synced"
    assert len(puts(workfront_wire, pid)) == 1  # recovery re-ran the send step, found the name set, sent nothing
    assert sync_state(session_factory, cid, "workfront").status == "synced"
