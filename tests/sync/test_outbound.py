"""Outbound propagation on DBOS: MCC-owned campaign changes reach the linked Workfront / Asana project once.

Against the local Workfront wire server (429 with Retry-After, 500 until exhausted, an edit during a send) and against
both sandboxes; the spine runs on SQLite and PostgreSQL, the DBOS system database on a SQLite file. The kill -9 test
is in test_outbound_restart.py (it launches DBOS itself).
"""

from __future__ import annotations

import asyncio
import json
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
from connectors.workfront.sandbox import WorkfrontSandbox
from mcc.cli import app as cli
from spine.db import transaction
from spine.models import ErrorLog, EventLog, SyncState
from spine.repositories import SpineStore
from sync.durable import Durable, DurableConfig, launch_durable
from sync.outbound import WF_BUDGET, WF_TIER
from sync.outbound_state import Target, claim, outbound_fields, pending, plan, retry_errors
from tests.sync.outbound_helpers import (
    T,
    edit,
    link,
    make_outbound,
    new_campaign,
    puts,
    run,
    sync_state,
    wire_opener,
    wire_project,
)
from tests.wire.workfront_server import WorkfrontWireServer, workfront_wire, workfront_wire_server

__all__ = ["workfront_wire", "workfront_wire_server"]


@pytest.fixture(scope="module")
def durable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Durable]:
    """One DBOS for the module (launching it per test costs more than the tests)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dbos') / 'dbos.sqlite'}"
    with launch_durable(DurableConfig(system_database_url=url, polling_interval_sec=0.05)) as d:
        yield d


def test_the_matrix_decides_what_goes_out() -> None:
    assert set(outbound_fields()) == {"name", "description", "tier", "budget_planned", "launch_date", "end_date"}


def test_429_with_retry_after_then_success_sends_once(
    session_factory: sessionmaker[Session], workfront_wire: WorkfrontWireServer, durable: Durable
) -> None:
    cid = new_campaign(session_factory)
    pid = wire_project(workfront_wire)
    link(session_factory, cid, "workfront", pid)
    budget = {"amount": "62000", "currency": "USD"}
    edit(session_factory, cid, name="Spring Launch 2027", tier=1, budget_planned=budget)
    edit(session_factory, cid, tags=["not-sent"], owner_id="maya.chen")  # MCC-only fields stay home
    # The client waits out two 429s (Retry-After: 0); the third, with the client's retries spent, reaches the
    # workflow, which sleeps durably and sends again.
    workfront_wire.state.fail_next(429, times=3, retry_after="0")
    results = run(make_outbound(session_factory, wire_opener(workfront_wire)), durable)
    assert list(results.values()) == ["synced"]
    project = workfront_wire.state.objects["PROJ"][pid]
    assert project["name"] == "Spring Launch 2027"
    assert project["parameterValues"] == {WF_TIER: 1, WF_BUDGET: "62000.00 USD"}
    assert len(puts(workfront_wire, pid)) == 1
    assert [s.method for s in workfront_wire.state.seen[:4]] == ["GET", "GET", "GET", "GET"]
    state = sync_state(session_factory, cid, "workfront")
    assert state.status == "synced" and {"tags", "owner_id"}.isdisjoint(state.field_versions)
    assert all(v["sent"] == v["out"] == v["version"] for v in state.field_versions.values())
    with session_factory() as s:
        synced = s.scalars(select(EventLog).where(EventLog.event_type == "campaign.synced")).all()
        assert [e.payload["system"] for e in synced] == ["workfront"]
    assert run(make_outbound(session_factory, wire_opener(workfront_wire)), durable) == {}  # nothing left to send
    assert len(puts(workfront_wire, pid)) == 1


def test_500_until_exhausted_lands_in_the_error_log_and_mcc_sync_errors(
    session_factory: sessionmaker[Session], engine: Engine, workfront_wire: WorkfrontWireServer, durable: Durable,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    cid = new_campaign(session_factory)
    pid = wire_project(workfront_wire)
    link(session_factory, cid, "workfront", pid)
    edit(session_factory, cid, description="New positioning")
    workfront_wire.state.fail_next(500, times=100)
    results = run(make_outbound(session_factory, wire_opener(workfront_wire), max_attempts=2), durable)
    assert list(results.values()) == ["error"]
    assert puts(workfront_wire, pid) == [] and workfront_wire.state.objects["PROJ"][pid]["description"] is None
    assert sync_state(session_factory, cid, "workfront").status == "error"
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
    retried = run(make_outbound(session_factory, wire_opener(workfront_wire)), durable)
    assert list(retried.values()) == ["synced"] and set(retried).isdisjoint(results)
    assert workfront_wire.state.objects["PROJ"][pid]["description"] == "New positioning"
    assert len(puts(workfront_wire, pid)) == 1


def test_enqueuing_the_same_change_twice_runs_it_once(
    session_factory: sessionmaker[Session], workfront_wire: WorkfrontWireServer, durable: Durable
) -> None:
    cid = new_campaign(session_factory)
    pid = wire_project(workfront_wire)
    link(session_factory, cid, "workfront", pid)
    edit(session_factory, cid, end_date="2027-05-15")
    outbound = make_outbound(session_factory, wire_opener(workfront_wire))
    gate = workfront_wire.state.write_gate = threading.Event()  # keep the first one in flight
    first = outbound.enqueue_pending(durable.outbound, T)
    with transaction(session_factory) as s:  # the same change set gets the same workflow id
        assert [outbound._workflow_id(s, t) for t in pending(s, T)] in ([], first)
    assert outbound.enqueue_pending(durable.outbound, T) == first  # a second push: the same workflow, not a new one
    gate.set()
    assert DBOS.retrieve_workflow(first[0]).get_result(polling_interval_sec=0.05) == "synced"
    assert outbound.enqueue_pending(durable.outbound, T) == []
    assert workfront_wire.state.objects["PROJ"][pid]["plannedCompletionDate"] == "2027-05-15"
    assert len(puts(workfront_wire, pid)) == 1


def test_an_edit_during_the_send_goes_out_in_the_same_workflow(
    session_factory: sessionmaker[Session], workfront_wire: WorkfrontWireServer, durable: Durable
) -> None:
    cid = new_campaign(session_factory)
    pid = wire_project(workfront_wire)
    link(session_factory, cid, "workfront", pid)
    edit(session_factory, cid, name="First rename")
    gate = workfront_wire.state.write_gate = threading.Event()  # the first PUT is applied; its answer waits
    outbound = make_outbound(session_factory, wire_opener(workfront_wire))
    (first,) = outbound.enqueue_pending(durable.outbound, T)
    deadline = time.monotonic() + 30
    while not puts(workfront_wire, pid):
        assert time.monotonic() < deadline, "the first PUT never came"
        time.sleep(0.02)
    edit(session_factory, cid, name="Second rename")
    assert outbound.enqueue_pending(durable.outbound, T) == [first]  # in flight: no second workflow races it
    gate.set()
    assert DBOS.retrieve_workflow(first).get_result(polling_interval_sec=0.05) == "synced"
    assert workfront_wire.state.objects["PROJ"][pid]["name"] == "Second rename"
    assert len(puts(workfront_wire, pid)) == 2
    assert sync_state(session_factory, cid, "workfront").status == "synced"


def sync_state_row_status(session: Session, cid: str) -> str:
    row = session.scalar(select(SyncState.status).where(SyncState.canonical_id == cid))
    assert row is not None
    return row


def test_inbound_changes_are_not_echoed(session_factory: sessionmaker[Session]) -> None:
    cid = new_campaign(session_factory)
    link(session_factory, cid, "workfront", uuid.uuid4().hex)
    with transaction(session_factory) as s:
        SpineStore(s, T).events.append("campaign.updated", "campaign", cid,
                                       {"source_system": "workfront", "changed_fields": ["name"]})  # fmt: skip
        assert plan(s, T) == []
        # An inbound change bumps the shared field version; it is not an outbound change to send back.
        SpineStore(s, T).sync.record(
            "campaign", cid, "workfront", ["launch_date"], source="workfront", status="pending"
        )
        assert pending(s, T) == [] and claim(s, Target(T, cid, "workfront")) is None
        assert sync_state_row_status(s, cid) == "pending"  # left to inbound processing


def test_sandboxes_receive_the_changes(
    session_factory: sessionmaker[Session], durable: Durable, tmp_path: Path
) -> None:
    cid = new_campaign(session_factory)
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
    link(session_factory, cid, "workfront", wf_id)
    link(session_factory, cid, "asana", asana_gid)
    edit(session_factory, cid, name="Spring Launch EMEA", description="Now for EMEA", launch_date="2027-03-08")

    def opener(_t: str, system: str) -> Any:
        return WorkfrontSandbox(tmp_path / "wf") if system == "workfront" else AsanaSandbox(tmp_path / "asana.db")

    results = run(make_outbound(session_factory, opener), durable)
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
