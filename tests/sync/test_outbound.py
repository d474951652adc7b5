"""Outbound propagation on DBOS: MCC-owned campaign changes reach the linked Workfront / Asana project once.

Against the local Workfront wire server (429 with Retry-After, 500 until exhausted, kill -9 mid-propagation) and
against both sandboxes; the spine runs on SQLite and PostgreSQL, the DBOS system database on a SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from connectors.asana.sandbox import AsanaSandbox
from connectors.workfront.client import WorkfrontRestClient
from connectors.workfront.sandbox import WorkfrontSandbox
from mcc.cli import app as cli
from spine.db import transaction
from spine.models import ErrorLog, EventLog, SyncState
from spine.repositories import SpineStore, create_tenant
from sync.durable import Durable, DurableConfig, launch_durable
from sync.outbound import WF_BUDGET, WF_TIER, Outbound
from sync.outbound_state import outbound_fields, pending, plan, retry_errors
from tests.wire.workfront_server import TOKEN, WorkfrontWireServer, workfront_wire, workfront_wire_server

__all__ = ["workfront_wire", "workfront_wire_server"]
T = "acme-out"
ROOT = Path(__file__).resolve().parents[2]


def _new_campaign(factory: sessionmaker[Session]) -> str:
    with transaction(factory) as s:
        create_tenant(s, T, "Acme Outbound")
        store = SpineStore(s, T)
        store.directory.add_user({"user_id": "maya.chen", "display_name": "Maya", "email": "maya@acme.test"})
        return store.campaigns.create({"name": "Spring Launch", "type": "product_launch", "tier": 2,
                                       "launch_date": "2027-03-01", "end_date": "2027-04-30", "owner_id": "maya.chen",
                                       "budget_planned": {"amount": "50000", "currency": "USD"}},
                                      actor="t").id  # fmt: skip


def _link(factory: sessionmaker[Session], cid: str, system: str, external_id: str) -> None:
    with transaction(factory) as s:
        SpineStore(s, T).refs.link("campaign", cid, system, external_id, actor="t")


def _edit(factory: sessionmaker[Session], cid: str, **changes: Any) -> None:
    with transaction(factory) as s:
        store = SpineStore(s, T)
        store.campaigns.update(cid, changes, expected_version=store.campaigns.get(cid).version, actor="maya.chen")


def _state(factory: sessionmaker[Session], cid: str, system: str) -> SyncState:
    with factory() as s:
        row = s.scalar(select(SyncState).where(SyncState.canonical_id == cid, SyncState.system == system))
        assert row is not None
        s.expunge(row)
        return row


@pytest.fixture
def durable(tmp_path: Path) -> Iterator[Durable]:
    with launch_durable(DurableConfig(system_database_url=f"sqlite:///{tmp_path / 'dbos.sqlite'}",
                                      polling_interval_sec=0.05)) as d:  # fmt: skip
        yield d


def _wire_opener(wire: WorkfrontWireServer) -> Any:
    return lambda _t, _s: WorkfrontRestClient(wire.base_url, TOKEN, max_retries=2, backoff_base=0.01,
                                              max_retry_after=5)  # fmt: skip


def _outbound(factory: sessionmaker[Session], opener: Any, **kw: Any) -> Outbound:
    # Built after launch here (one DBOS per test); DBOS warns, and recovery is tested with a fresh launch below.
    return Outbound(factory, opener, config_name=f"outbound-{uuid.uuid4().hex[:8]}", backoff_seconds=0.01, **kw)


def _run(outbound: Outbound, durable: Durable) -> dict[str, str]:
    ids = outbound.enqueue_pending(durable.outbound, T)
    return {i: DBOS.retrieve_workflow(i).get_result(polling_interval_sec=0.05) for i in ids}


def _wire_project(wire: WorkfrontWireServer) -> str:
    pid = uuid.uuid4().hex
    wire.state.objects["PROJ"][pid] = {"ID": pid, "objCode": "PROJ", "name": "Spring Launch", "status": "PLN",
                                       "plannedStartDate": "2027-03-01", "plannedCompletionDate": "2027-04-30",
                                       "description": None, "percentComplete": 0.0, "parameterValues": {}}  # fmt: skip
    return pid


def _puts(wire: WorkfrontWireServer, pid: str) -> list[Any]:
    return [s for s in wire.state.requests("PUT", pid)]


def test_the_matrix_decides_what_goes_out() -> None:
    assert set(outbound_fields()) == {"name", "description", "tier", "budget_planned", "launch_date", "end_date"}


def test_429_with_retry_after_then_success_sends_once(
    session_factory: sessionmaker[Session], workfront_wire: WorkfrontWireServer, durable: Durable
) -> None:
    cid = _new_campaign(session_factory)
    pid = _wire_project(workfront_wire)
    _link(session_factory, cid, "workfront", pid)
    budget = {"amount": "62000", "currency": "USD"}
    _edit(session_factory, cid, name="Spring Launch 2027", tier=1, budget_planned=budget)
    _edit(session_factory, cid, tags=["not-sent"], owner_id="maya.chen")  # MCC-only fields stay home
    # The client waits out two 429s (Retry-After: 0); the third, with the client's retries spent, reaches the
    # workflow, which sleeps durably and sends again.
    workfront_wire.state.fail_next(429, times=3, retry_after="0")
    results = _run(_outbound(session_factory, _wire_opener(workfront_wire)), durable)
    assert list(results.values()) == ["synced"]
    project = workfront_wire.state.objects["PROJ"][pid]
    assert project["name"] == "Spring Launch 2027"
    assert project["parameterValues"] == {WF_TIER: 1, WF_BUDGET: "62000.00 USD"}
    assert len(_puts(workfront_wire, pid)) == 1
    assert [s.method for s in workfront_wire.state.seen[:4]] == ["GET", "GET", "GET", "GET"]
    state = _state(session_factory, cid, "workfront")
    assert state.status == "synced" and {"tags", "owner_id"}.isdisjoint(state.field_versions)
    assert all(v["sent"] == v["version"] for v in state.field_versions.values())
    with session_factory() as s:
        synced = s.scalars(select(EventLog).where(EventLog.event_type == "campaign.synced")).all()
        assert [e.payload["system"] for e in synced] == ["workfront"]
    assert _run(_outbound(session_factory, _wire_opener(workfront_wire)), durable) == {}  # nothing left to send
    assert len(_puts(workfront_wire, pid)) == 1


def test_500_until_exhausted_lands_in_the_error_log_and_mcc_sync_errors(
    session_factory: sessionmaker[Session], engine: Engine, workfront_wire: WorkfrontWireServer, durable: Durable,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    cid = _new_campaign(session_factory)
    pid = _wire_project(workfront_wire)
    _link(session_factory, cid, "workfront", pid)
    _edit(session_factory, cid, description="New positioning")
    workfront_wire.state.fail_next(500, times=100)
    results = _run(_outbound(session_factory, _wire_opener(workfront_wire), max_attempts=2), durable)
    assert list(results.values()) == ["error"]
    assert _puts(workfront_wire, pid) == [] and workfront_wire.state.objects["PROJ"][pid]["description"] is None
    assert _state(session_factory, cid, "workfront").status == "error"
    with session_factory() as s:
        (err,) = s.scalars(select(ErrorLog)).all()
        assert err.step == "outbound.send.workfront" and err.campaign_id == cid and err.error_type == "ServerError"
        assert "500" in err.error_message and err.error_details and err.error_details["attempts"] == 2
        assert err.request_id in results

    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MCC_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    out = CliRunner().invoke(cli, ["sync", "errors", "--tenant", T, "--json"])
    assert out.exit_code == 0, out.output
    shown = json.loads(out.output)
    assert [(e["step"], e["campaign_id"]) for e in shown] == [("outbound.send.workfront", cid)]

    workfront_wire.state.injected.clear()  # the outage is over: a retry is a new workflow and goes through
    with transaction(session_factory) as s:
        assert retry_errors(s, T) == 1
    retried = _run(_outbound(session_factory, _wire_opener(workfront_wire)), durable)
    assert list(retried.values()) == ["synced"] and set(retried).isdisjoint(results)
    assert workfront_wire.state.objects["PROJ"][pid]["description"] == "New positioning"
    assert len(_puts(workfront_wire, pid)) == 1


def test_enqueuing_the_same_change_twice_runs_it_once(
    session_factory: sessionmaker[Session], workfront_wire: WorkfrontWireServer, durable: Durable
) -> None:
    cid = _new_campaign(session_factory)
    pid = _wire_project(workfront_wire)
    _link(session_factory, cid, "workfront", pid)
    _edit(session_factory, cid, end_date="2027-05-15")
    outbound = _outbound(session_factory, _wire_opener(workfront_wire))
    first = outbound.enqueue_pending(durable.outbound, T)
    with transaction(session_factory) as s:  # a second planner before the first finished: same change set
        again = [outbound._workflow_id(s, t) for t in pending(s, T)] or first
    assert again == first
    assert DBOS.retrieve_workflow(first[0]).get_result(polling_interval_sec=0.05) == "synced"
    assert workfront_wire.state.objects["PROJ"][pid]["plannedCompletionDate"] == "2027-05-15"
    assert len(_puts(workfront_wire, pid)) == 1


def test_an_edit_during_the_send_goes_out_in_the_same_workflow(
    session_factory: sessionmaker[Session], workfront_wire: WorkfrontWireServer, durable: Durable
) -> None:
    cid = _new_campaign(session_factory)
    pid = _wire_project(workfront_wire)
    _link(session_factory, cid, "workfront", pid)
    _edit(session_factory, cid, name="First rename")
    gate = workfront_wire.state.write_gate = threading.Event()  # the first PUT is applied; its answer waits
    outbound = _outbound(session_factory, _wire_opener(workfront_wire))
    (first,) = outbound.enqueue_pending(durable.outbound, T)
    deadline = time.monotonic() + 30
    while not _puts(workfront_wire, pid):
        assert time.monotonic() < deadline, "the first PUT never came"
        time.sleep(0.02)
    _edit(session_factory, cid, name="Second rename")
    assert outbound.enqueue_pending(durable.outbound, T) == [first]  # in flight: no second workflow races it
    gate.set()
    assert DBOS.retrieve_workflow(first).get_result(polling_interval_sec=0.05) == "synced"
    assert workfront_wire.state.objects["PROJ"][pid]["name"] == "Second rename"
    assert len(_puts(workfront_wire, pid)) == 2
    assert _state(session_factory, cid, "workfront").status == "synced"


def test_inbound_changes_are_not_echoed(session_factory: sessionmaker[Session]) -> None:
    cid = _new_campaign(session_factory)
    _link(session_factory, cid, "workfront", uuid.uuid4().hex)
    with transaction(session_factory) as s:
        SpineStore(s, T).events.append("campaign.updated", "campaign", cid,
                                       {"source_system": "workfront", "changed_fields": ["name"]})  # fmt: skip
        assert plan(s, T) == []


def test_sandboxes_receive_the_changes(
    session_factory: sessionmaker[Session], durable: Durable, tmp_path: Path
) -> None:
    cid = _new_campaign(session_factory)
    wf = WorkfrontSandbox(tmp_path / "wf")
    asana = AsanaSandbox(tmp_path / "asana.db")
    seed = asana.seed_demo(workspace_name="Acme", team_name="Marketing", users=[("Al", "al@example.com")])

    async def create() -> tuple[str, str]:
        wf_project = await wf.create_project("Spring Launch", planned_start_date="2027-03-01")
        a_project = await asana.create_project({"name": "Spring Launch", "workspace": seed.workspace_gid})
        await wf.aclose()
        await asana.aclose()
        return wf_project.id, a_project.gid

    wf_id, asana_gid = asyncio.run(create())
    _link(session_factory, cid, "workfront", wf_id)
    _link(session_factory, cid, "asana", asana_gid)
    _edit(session_factory, cid, name="Spring Launch EMEA", description="Now for EMEA", launch_date="2027-03-08")

    def opener(_t: str, system: str) -> Any:
        return WorkfrontSandbox(tmp_path / "wf") if system == "workfront" else AsanaSandbox(tmp_path / "asana.db")

    results = _run(_outbound(session_factory, opener), durable)
    assert sorted(results.values()) == ["synced", "synced"]

    async def read() -> tuple[Any, Any]:
        w, a = WorkfrontSandbox(tmp_path / "wf"), AsanaSandbox(tmp_path / "asana.db")
        try:
            return (await w.get_project(wf_id)).project, await a.get_project(asana_gid)
        finally:
            await w.aclose()
            await a.aclose()

    wf_project, a_project = asyncio.run(read())
    assert (wf_project.name, wf_project.description, str(wf_project.planned_start_date)) == (
        "Spring Launch EMEA", "Now for EMEA", "2027-03-08")  # fmt: skip
    assert (a_project.name, a_project.notes, str(a_project.start_on)) == ("Spring Launch EMEA", "Now for EMEA",
                                                                          "2027-03-08")  # fmt: skip


def test_kill_9_mid_propagation_then_restart_sends_nothing_twice(
    session_factory: sessionmaker[Session], engine: Engine, workfront_wire: WorkfrontWireServer, tmp_path: Path
) -> None:
    cid = _new_campaign(session_factory)
    pid = _wire_project(workfront_wire)
    _link(session_factory, cid, "workfront", pid)
    _edit(session_factory, cid, name="Spring Launch (renamed)")
    gate = workfront_wire.state.write_gate = (
        threading.Event()
    )  # the PUT is applied; its answer never reaches the worker
    dbos_url = f"sqlite:///{tmp_path / 'dbos.sqlite'}"
    name = f"outbound-kill-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "tests.sync.outbound_worker", engine.url.render_as_string(hide_password=False),
            dbos_url, workfront_wire.base_url, name, T]  # fmt: skip
    worker = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _puts(workfront_wire, pid):
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker never sent the update"
            time.sleep(0.05)
    finally:
        worker.kill()  # SIGKILL: no cleanup, DBOS left the workflow PENDING mid-step
        worker.wait()
    assert workfront_wire.state.objects["PROJ"][pid]["name"] == "Spring Launch (renamed)"
    assert _state(session_factory, cid, "workfront").status == "syncing"
    gate.set()

    # The restarted process registers the propagator under the same name, so DBOS finds it for recovery.
    Outbound(session_factory, _wire_opener(workfront_wire), config_name=name)
    with launch_durable(DurableConfig(system_database_url=dbos_url, polling_interval_sec=0.05)):
        (wf,) = [w for w in DBOS.list_workflows() if w.name.endswith("propagate")]
        assert DBOS.retrieve_workflow(wf.workflow_id).get_result(polling_interval_sec=0.05) == "synced"
    assert len(_puts(workfront_wire, pid)) == 1  # recovery re-ran the send step, found the name set, sent nothing
    assert _state(session_factory, cid, "workfront").status == "synced"
