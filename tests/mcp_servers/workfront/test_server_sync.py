"""No half-state: a spine transaction that fails after Workfront succeeded answers sync_pending, leaves nothing
in the spine, and the identical retry converges to one Workfront object and one spine mapping.

Faults are injected with a SQLAlchemy ``before_flush`` listener on the real session factory (not a mock)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.workfront.mapping import (
    campaign_status_for,
    project_codes_for,
    task_codes_for,
    work_item_status_for,
)
from policies.engine import PolicyEngine
from spine.enums import CampaignStatus, WorkItemStatus
from spine.models import ErrorLog, EventLog, SystemRef, WorkItem
from spine.repositories import open_store
from tests.mcp_servers.workfront.server_world import (
    ACME,
    WfWorld,
    call,
    make_policy_engine,
    open_world,
)


@pytest.fixture(scope="module")
def wf_policy() -> PolicyEngine:
    return make_policy_engine()


@pytest.fixture
async def wf_world(engine: Engine, tmp_path: Path, wf_policy: PolicyEngine) -> AsyncIterator[WfWorld]:
    async with open_world(engine, tmp_path, wf_policy) as world:
        yield world


@contextmanager
def fail_once_when_flushing(sessions: sessionmaker[Session], kind: type) -> Iterator[dict[str, int]]:
    """Raise once from the first flush that would write a new or changed ``kind`` row."""
    state = {"raised": 0}

    def boom(session: Session, _ctx: object, _instances: object) -> None:
        touched = [o for o in (*session.new, *session.dirty) if isinstance(o, kind)]
        if touched and not state["raised"]:
            state["raised"] += 1
            raise RuntimeError("injected spine failure")

    event.listen(sessions, "before_flush", boom)
    try:
        yield state
    finally:
        event.remove(sessions, "before_flush", boom)


def error_rows(w: WfWorld) -> int:
    with w.sessions() as s:
        return s.scalar(select(func.count()).select_from(ErrorLog).where(ErrorLog.step == "workfront.spine_sync")) or 0


async def test_create_project_spine_failure_is_pending_and_the_retry_converges(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    campaign = w.campaigns[ACME]["Spring Launch"]
    args = {
        "name": "Spring Launch WF",
        "template_id": w.template,
        "campaign_id": campaign,
        "idempotency_key": "spring-launch-wf-1",
    }
    before = w.spine_counts()
    with fail_once_when_flushing(w.sessions, SystemRef) as fault:
        ok, err = await call(maya, "create_project", args)
    assert fault["raised"] == 1
    assert not ok and "[sync_pending]" in err and "same idempotency_key" in err
    orphan = re.search(r"PROJ ([0-9a-f]{32})", err).group(1)  # type: ignore[union-attr]
    assert w.spine_counts() == before  # no ref, no work item, no event: the whole spine transaction rolled back
    assert error_rows(w) == 1  # recorded for repair
    with open_store(w.sessions, ACME) as store:
        assert store.refs.external_id("campaign", campaign, "workfront") is None
        assert store.campaigns.get(campaign).status == "draft"

    ok, made = await call(maya, "create_project", args)
    assert ok, made
    assert made["project"]["id"] == orphan  # Workfront replayed the key: still one project
    assert (await w.sandboxes[ACME].search("PROJ", {"name": "Spring Launch WF"})).total == 1
    assert (await w.sandboxes[ACME].search("TASK", {"projectID": orphan})).total == 4
    with w.sessions() as s:
        refs = s.scalars(select(SystemRef).where(SystemRef.canonical_id == campaign)).all()
        items = s.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.campaign_id == campaign))
    assert [(r.system, r.external_id) for r in refs] == [("workfront", orphan)] and items == 4

    ok, again = await call(maya, "create_project", args)  # and once more: nothing new anywhere
    assert ok and again["project"]["id"] == orphan and again["spine"] == made["spine"]
    assert (await w.sandboxes[ACME].search("PROJ", {"name": "Spring Launch WF"})).total == 1


async def test_create_task_spine_failure_then_retry_gives_one_task_and_one_work_item(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    campaign = w.campaigns[ACME]["Summer Email"]
    ok, made = await call(maya, "create_project", {"name": "Summer WF", "campaign_id": campaign})
    assert ok, made
    args = {"project_id": made["project"]["id"], "name": "Subject lines", "work_required": 120}
    before = w.spine_counts()
    with fail_once_when_flushing(w.sessions, WorkItem):
        ok, err = await call(maya, "create_task", args)
    assert not ok and "[sync_pending]" in err
    assert w.spine_counts() == before
    ok, task = await call(maya, "create_task", args)  # identical call: the guard derives the same key
    assert ok, task
    assert (await w.sandboxes[ACME].search("TASK", {"name": "Subject lines"})).total == 1
    with open_store(w.sessions, ACME) as store:
        items = store.work_items.list(campaign)
    assert [(i.external_id, i.name) for i in items] == [(task["task"]["id"], "Subject lines")]


async def test_update_status_spine_failure_leaves_campaign_alone_until_the_retry(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    campaign = w.campaigns[ACME]["Autumn Webinar"]
    ok, made = await call(
        maya, "create_project", {"name": "Autumn WF", "template_id": w.template, "campaign_id": campaign}
    )
    project_id, task_id = made["project"]["id"], made["tasks"][0]["id"]
    args = {"obj_type": "project", "obj_id": project_id, "status": "CUR"}
    # set_status is a Core UPDATE (no dirty ORM object): fail on the event it flushes in the same transaction.
    with fail_once_when_flushing(w.sessions, EventLog):
        ok, err = await call(maya, "update_status", args)
    assert not ok and "[sync_pending]" in err and "retry the identical call" in err
    with open_store(w.sessions, ACME) as store:
        assert store.campaigns.get(campaign).status == "planning"  # untouched
    assert (await w.sandboxes[ACME].get_project(project_id)).project.status == "CUR"
    ok, done = await call(maya, "update_status", args)
    assert ok and done["spine"]["canonical_status"] == "in_progress"
    with open_store(w.sessions, ACME) as store:
        assert store.campaigns.get(campaign).status == "in_progress"

    with fail_once_when_flushing(w.sessions, WorkItem):
        ok, err = await call(maya, "update_task", {"task_id": task_id, "percent_complete": 100})
    assert not ok and "[sync_pending]" in err
    ok, done = await call(maya, "update_task", {"task_id": task_id, "percent_complete": 100})
    assert ok and done["task"]["status"] == "CPL" and done["spine"]["canonical_status"] == "completed"


async def test_a_task_of_a_linked_project_without_work_item_is_mirrored_on_its_next_change(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    campaign = w.campaigns[ACME]["Spring Launch"]
    sandbox = w.sandboxes[ACME]
    project = await sandbox.create_project("Made in Workfront", template_id=w.template)  # outside MCC
    with open_store(w.sessions, ACME) as store:
        store.refs.link("campaign", campaign, "workfront", project.id)
    task = (await sandbox.search("TASK", {"projectID": project.id, "name": "Copywriting"})).items[0]
    ok, done = await call(maya, "assign_resource", {"task_id": task["ID"], "user_id": w.user("Bea Chen")})
    assert ok and done["spine"]["campaign_id"] == campaign
    with open_store(w.sessions, ACME) as store:
        (item,) = store.work_items.list(campaign)
    assert (item.external_id, item.assignee_id, item.name) == (task["ID"], w.user("Bea Chen"), "Copywriting")


def test_status_mapping_covers_every_code_and_round_trips() -> None:
    project_codes = ["CUR", "PLN", "ONH", "CPL", "DED", "REQ", "APR", "REJ", "IDA"]
    assert {campaign_status_for(c) for c in project_codes} <= {s.value for s in CampaignStatus}
    for code in project_codes:
        assert code in project_codes_for(campaign_status_for(code))
    assert set(project_codes_for("cancelled")) == {"DED", "REJ"} and project_codes_for("launched") == ("CUR",)
    assert [work_item_status_for(c) for c in ["NEW", "INP", "CPL", "CPA", "CPI"]] == [
        "not_started",
        "in_progress",
        "completed",
        "pending_review",
        "blocked",
    ]
    for status in WorkItemStatus:
        for code in task_codes_for(status):
            assert work_item_status_for(code) == status
    assert task_codes_for("approved") == ()
