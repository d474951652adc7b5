"""`sync pull`, the polling fallback: changed Workfront objects (by lastUpdateDate, through the REST client against
the wire server) are applied like webhook events; what did not change since --since is not read; re-running
changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.workfront.client import WorkfrontRestClient
from spine.models import Campaign, EventLog, WorkItem
from sync.pull import FIRST_PULL_WINDOW, PULL_OVERLAP, PullReport, default_since, last_pulled, pull
from tests.sync.inbound_world import TENANT, World, build_world
from tests.wire.workfront_server import TOKEN, WorkfrontWireServer, workfront_wire, workfront_wire_server

__all__ = ["workfront_wire", "workfront_wire_server"]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


def _run(world: World, wire: WorkfrontWireServer, since: dt.datetime) -> PullReport:
    async def go() -> PullReport:
        client = WorkfrontRestClient(wire.base_url, TOKEN, rate_per_minute=100_000)
        try:
            return await pull(world.sessions, world.audit, TENANT, "workfront", client, since)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_pull_applies_what_changed_since(world: World, workfront_wire: WorkfrontWireServer) -> None:
    objs = workfront_wire.state.objects
    objs["PROJ"][world.project_id] = {"ID": world.project_id, "objCode": "PROJ", "name": "Renamed", "status": "CUR",
                                      "lastUpdateDate": NOW}  # fmt: skip
    for i, (status, pct, changed) in enumerate([("CPL", 100.0, NOW), ("INP", 30.0, NOW - dt.timedelta(days=3))]):
        objs["TASK"][world.task_ids[i]] = {"ID": world.task_ids[i], "objCode": "TASK", "name": f"Step {i + 1}",
                                           "projectID": world.project_id, "status": status, "percentComplete": pct,
                                           "lastUpdateDate": changed}  # fmt: skip
    report = _run(world, workfront_wire, NOW - dt.timedelta(hours=1))
    assert report.read == 2  # the project and the first task; the second changed before --since
    with world.sessions() as s:
        first, second = (s.get(WorkItem, i) for i in world.item_ids[:2])
        assert first is not None and (first.status, first.percent_complete) == ("completed", 100)
        assert second is not None and second.status == "not_started"
        campaign = s.get(Campaign, world.campaign_id)
        assert campaign is not None and (campaign.status, campaign.name) == ("in_progress", "Q1 Launch")
        updates = s.scalar(select(func.count()).select_from(EventLog).where(EventLog.event_type == "work_item.updated"))
    assert report.outcome["ignored_mcc_owned"] == [f"campaign.name@{world.campaign_id}"]
    assert world.audit.tail(TENANT, 1)[0].tool == "pull.workfront"

    _run(world, workfront_wire, NOW - dt.timedelta(hours=1))  # again: nothing new to write
    with world.sessions() as s:
        again = s.scalar(select(func.count()).select_from(EventLog).where(EventLog.event_type == "work_item.updated"))
    assert again == updates == 1
    assert any(
        ("lastUpdateDate", "gte") in [(k, v) for k, v in seen.params] or ("lastUpdateDate_Mod", "gte") in seen.params
        for seen in workfront_wire.state.requests("GET", "search")
    )


def test_a_pull_without_since_continues_from_where_the_last_one_started(
    world: World, workfront_wire: WorkfrontWireServer
) -> None:
    assert last_pulled(world.sessions, TENANT, "workfront") is None  # first pull: the caller picks the window
    before = dt.datetime.now(dt.UTC)
    _run(world, workfront_wire, NOW - dt.timedelta(days=2))
    mark = last_pulled(world.sessions, TENANT, "workfront")
    assert mark is not None and before - dt.timedelta(seconds=1) <= mark <= dt.datetime.now(dt.UTC)
    assert last_pulled(world.sessions, TENANT, "asana") is None  # each system keeps its own mark
    assert last_pulled(world.sessions, "other-tenant", "workfront") is None

    # the next pull's default window starts at that mark, less a short overlap for clock skew
    start = default_since(world.sessions, TENANT, "workfront", now=NOW)
    assert start == mark - PULL_OVERLAP
    assert default_since(world.sessions, TENANT, "asana", now=NOW) == NOW - FIRST_PULL_WINDOW
