"""Asana project status inbound: the authority matrix gives campaign status to the execution system, so an Asana-run
campaign takes its status from the project (completed, on hold, back to work) through webhook processing and
`mcc sync pull`, against the Asana wire server; active status updates never overwrite a finer MCC status."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.client import AsanaRestClient
from connectors.asana.models import Project
from spine.audit import AuditLog
from spine.authority import Direction, Owner, rule_for
from spine.models import Campaign, EventLog
from sync import inbox
from sync.map_asana import change_from_project, project_status
from sync.process import AsanaReader, process
from sync.pull import pull
from tests.sync.outbound_helpers import T, link, new_campaign
from tests.wire.asana_server import AsanaWireServer, asana_wire_server

__all__ = ["asana_wire_server"]

TOKEN = "0/asana-status-token-1234567890"
AUDIT_KEY = b"asana-status-test-audit-key-012345"


def _project(**kw: Any) -> Project:
    return Project(gid="1200000000000001", name="P", **kw)


def _update(kind: str) -> dict[str, Any]:
    return {"gid": "1200000000000009", "title": "Weekly", "status_type": kind}


def test_the_matrix_gives_campaign_status_to_the_execution_system() -> None:
    rule = rule_for("campaign.status")
    assert (rule.owner, rule.direction) == (Owner.EXECUTION, Direction.EXECUTION_TO_MCC)


@pytest.mark.parametrize(("project", "mine", "expected"), [
    (_project(completed=True), "launched", "completed"),
    (_project(current_status_update=_update("complete")), "in_progress", "completed"),
    (_project(current_status_update=_update("on_hold")), "launched", "on_hold"),
    (_project(current_status_update=_update("at_risk")), "on_hold", "in_progress"),
    (_project(current_status_update=_update("on_track")), "completed", "in_progress"),
    (_project(current_status_update=_update("on_track")), "launched", None),  # finer than Asana can say
    (_project(current_status_update=_update("off_track")), "planning", None),
    (_project(), "on_hold", None),  # no status update: nothing said
])  # fmt: skip
def test_project_status_maps_only_what_asana_can_tell(project: Project, mine: str, expected: str | None) -> None:
    assert project_status(project, mine) == expected
    assert change_from_project(project, dt.datetime.now(dt.UTC), mine).fields.get("status") == expected


@pytest.fixture
def wire(asana_wire_server: Any) -> AsanaWireServer:
    server: AsanaWireServer = asana_wire_server()
    ws = server.state.add_workspace("Acme")
    server.state.add_user("Maya Chen", "maya@acme.test", ws, token=TOKEN)
    return server


def _client(wire: AsanaWireServer) -> AsanaRestClient:
    return AsanaRestClient(wire.base_url, token=TOKEN, workspace_gid=next(iter(wire.state.workspaces)))


def _linked_project(session_factory: sessionmaker[Session], wire: AsanaWireServer) -> tuple[str, str]:
    async def create() -> str:
        async with _client(wire) as client:
            return (await client.create_project({"name": "Spring Launch", "start_on": "2027-03-01",
                                                 "due_on": "2027-04-30"})).gid  # fmt: skip

    gid = asyncio.run(create())
    cid = new_campaign(session_factory)
    link(session_factory, cid, "asana", gid)
    return cid, gid


def _set_status(wire: AsanaWireServer, gid: str, kind: str | None, completed: bool = False) -> None:
    p = wire.state.projects[gid]
    p["status_update"] = None if kind is None else _update(kind)
    p["completed"] = completed
    p["modified_at"] = wire.state.now()


def _campaign(session_factory: sessionmaker[Session], cid: str) -> tuple[str, str | None, int]:
    with session_factory() as s:
        row = s.get(Campaign, cid)
        assert row is not None
        changes = s.scalar(select(func.count()).select_from(EventLog).where(
            EventLog.aggregate_id == cid, EventLog.event_type == "campaign.status_changed"))  # fmt: skip
        return row.status, row.status_source, int(changes or 0)


def _pull(session_factory: sessionmaker[Session], wire: AsanaWireServer) -> None:
    async def go() -> None:
        async with _client(wire) as client:
            await pull(session_factory, AuditLog(session_factory, key=AUDIT_KEY), T, "asana", client,
                       dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))  # fmt: skip

    asyncio.run(go())


def test_pull_takes_the_project_status(session_factory: sessionmaker[Session], wire: AsanaWireServer) -> None:
    cid, gid = _linked_project(session_factory, wire)
    before = _campaign(session_factory, cid)
    _pull(session_factory, wire)  # no status update yet: the campaign keeps its status
    assert _campaign(session_factory, cid) == before

    _set_status(wire, gid, "on_hold")
    _pull(session_factory, wire)
    status, source, changes = _campaign(session_factory, cid)
    assert (status, source) == ("on_hold", "asana") and changes == before[2] + 1
    _pull(session_factory, wire)  # the same state again: nothing new
    assert _campaign(session_factory, cid)[2] == changes

    _set_status(wire, gid, "on_track")  # taken off hold
    _pull(session_factory, wire)
    assert _campaign(session_factory, cid)[:2] == ("in_progress", "asana")
    _set_status(wire, gid, "complete", completed=True)
    _pull(session_factory, wire)
    assert _campaign(session_factory, cid)[:2] == ("completed", "asana")


def test_a_project_webhook_event_takes_the_status(
    session_factory: sessionmaker[Session], wire: AsanaWireServer
) -> None:
    cid, gid = _linked_project(session_factory, wire)
    _set_status(wire, gid, None, completed=True)
    event = {"user": {"gid": "1", "resource_type": "user"}, "created_at": dt.datetime.now(dt.UTC).isoformat(),
             "action": "changed", "resource": {"gid": gid, "resource_type": "project"}, "parent": None,
             "change": {"field": "completed", "action": "changed"}}  # fmt: skip
    body = json.dumps({"events": [event]}).encode()
    stored = inbox.store(session_factory, T, "asana", inbox.delivery_id_for(body), {}, body)
    reader = AsanaReader(lambda _t: _client(wire))
    assert process(session_factory, AuditLog(session_factory, key=AUDIT_KEY), stored.id, asana=reader) == "processed"
    assert _campaign(session_factory, cid)[:2] == ("completed", "asana")
