"""The Workfront MCP server end to end: real in-process MCP client, real guard and Cedar engine, a Workfront
sandbox per tenant under tmp_path, the real spine database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import Engine

from mcp_servers.workfront.spine_sync import LEDGER_EVENT
from policies.catalog import DEFAULT_CATALOG
from policies.engine import PolicyEngine
from spine.repositories import open_store
from tests.mcp_servers.workfront.server_world import (
    ACME,
    GLOBEX,
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


WRITE_TOOLS = {
    "create_project",
    "create_task",
    "update_task",
    "update_status",
    "assign_resource",
    "create_issue",
    "add_note",
}
READ_TOOLS = {"get_project", "search", "get_capacity", "search_users"}


def project_args(w: WfWorld, name: str = "Spring Launch WF", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "template_id": w.template,
        "planned_start_date": "2027-02-01",
        "portfolio_id": w.directory.portfolios["Campaigns"],
        **extra,
    }


async def test_tools_are_listed_with_strict_schemas_docstrings_and_honest_annotations(wf_world: WfWorld) -> None:
    async with Client(wf_world.server("maya.chen")) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == WRITE_TOOLS | READ_TOOLS  # no delete tool
    assert set(tools) == {spec.tool for spec in DEFAULT_CATALOG.for_server("workfront")}
    for name, tool in tools.items():
        assert tool.input_schema["additionalProperties"] is False, name
        assert len(tool.description or "") > 120, name
        assert tool.annotations.open_world_hint is True, name
        assert tool.annotations.read_only_hint is (name in READ_TOOLS), name
    for name in ("create_project", "create_task", "create_issue", "add_note"):
        assert "idempotency_key" in tools[name].input_schema["properties"], name
        assert tools[name].annotations.destructive_hint is False
    assert tools["update_status"].annotations.destructive_hint is True
    assert "32" in tools["create_task"].description and "minutes" in tools["create_task"].description
    assert "hours" in tools["get_capacity"].description and "approval" in tools["create_project"].description
    assert "CPA" in tools["update_status"].description and "$$LIMIT" in tools["search"].description


async def test_every_tool_round_trips_and_mirrors_the_spine(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    campaign = w.campaigns[ACME]["Spring Launch"]

    ok, cap = await call(
        maya, "get_capacity", {"team_id": w.creative, "start_date": "2027-02-01", "end_date": "2027-02-12"}
    )
    assert ok and cap["working_days"] == 10 and {u["capacity_hours"] for u in cap["users"]} == {80.0}

    ok, made = await call(maya, "create_project", project_args(w, campaign_id=campaign))
    assert ok, made
    project_id = made["project"]["id"]
    assert made["project"]["status"] == "PLN" and len(made["tasks"]) == 4
    assert made["spine"]["campaign_id"] == campaign and len(made["spine"]["work_item_ids"]) == 4
    assert made["spine"]["canonical_status"] == "planning"
    with open_store(w.sessions, ACME) as store:
        assert store.refs.external_id("campaign", campaign, "workfront") == project_id
        assert store.campaigns.get(campaign).status == "planning"
        items = store.work_items.list(campaign, source_system="workfront")
        assert sorted(i.external_id for i in items) == sorted(t["id"] for t in made["tasks"])
        brief = next(i for i in items if i.name == "Creative brief")
        assert str(brief.duration_hours) == "8.00" and brief.status == "not_started"

    ok, summary = await call(maya, "get_project", {"project_id": project_id})
    assert ok and summary["task_total"] == 4 and summary["task_counts"]["NEW"] == 4
    assert summary["campaign_id"] == campaign

    ok, page = await call(
        maya,
        "search",
        {"obj_code": "TASK", "filters": {"projectID": project_id}, "fields": ["name", "status"], "limit": 3},
    )
    assert ok and page["total"] == 4 and len(page["items"]) == 3 and page["next_first"] == 3
    ok, page2 = await call(maya, "search", {"obj_code": "TASK", "filters": {"projectID": project_id}, "first": 3})
    assert ok and len(page2["items"]) == 1 and page2["next_first"] is None

    ok, task = await call(
        maya,
        "create_task",
        {
            "project_id": project_id,
            "name": "Landing page",
            "planned_start_date": "2027-02-03",
            "planned_completion_date": "2027-02-05",
            "work_required": 600,
        },
    )
    assert ok, task
    task_id, item_id = task["task"]["id"], task["spine"]["work_item_ids"][0]
    assert task["task"]["status"] == "NEW" and task["spine"]["campaign_id"] == campaign

    ok, upd = await call(
        maya,
        "update_task",
        {
            "task_id": task_id,
            "name": "Landing page v2",
            "percent_complete": 40,
            "planned_completion_date": "2027-02-09",
        },
    )
    assert ok and upd["task"]["status"] == "INP" and upd["spine"]["canonical_status"] == "in_progress"

    ok, assigned = await call(maya, "assign_resource", {"task_id": task_id, "user_id": w.user()})
    assert ok and assigned["task"]["assigned_to_id"] == w.user()

    ok, st = await call(maya, "update_status", {"obj_type": "task", "obj_id": task_id, "status": "CPA"})
    assert ok and st["task"]["status"] == "CPA" and st["spine"]["canonical_status"] == "pending_review"
    with open_store(w.sessions, ACME) as store:
        item = store.work_items.get(item_id)
    assert (item.name, item.percent_complete, item.status) == ("Landing page v2", 40, "pending_review")
    assert (item.assignee_id, item.planned_end_date.isoformat()) == (w.user(), "2027-02-09")

    ok, issue = await call(
        maya, "create_issue", {"project_id": project_id, "name": "Brand colours unclear", "priority": 3}
    )
    assert ok and issue["issue"]["status"] == "NEW" and issue["spine"]["campaign_id"] == campaign

    ok, note = await call(maya, "add_note", {"obj_code": "TASK", "obj_id": task_id, "text": "Copy approved."})
    assert ok and note["note"]["obj_id"] == task_id and note["spine"]["campaign_id"] == campaign

    ok, st = await call(maya, "update_status", {"obj_type": "project", "obj_id": project_id, "status": "CUR"})
    assert ok and st["project"]["status"] == "CUR" and st["spine"]["canonical_status"] == "in_progress"
    with open_store(w.sessions, ACME) as store:
        c = store.campaigns.get(campaign)
        assert (c.status, c.status_source) == ("in_progress", "workfront")
        kinds = [e.event_type for e in store.events.list(aggregate_id=campaign)]
    for kind in (
        "system_ref.linked",
        "workfront.project_created",
        "campaign.status_changed",
        "workfront.issue_created",
        "workfront.note_added",
    ):
        assert kind in kinds, kind
    assert w.audit.verify().ok


async def test_unlinked_project_writes_no_spine_mirror(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    before = w.spine_counts()
    ok, made = await call(maya, "create_project", project_args(w, "Internal ops", idempotency_key="ops-project-1"))
    assert ok and made["spine"] == {"campaign_id": None, "work_item_ids": [], "canonical_status": None}
    ok, task = await call(maya, "create_task", {"project_id": made["project"]["id"], "name": "Tidy up"})
    assert ok and task["spine"]["work_item_ids"] == []
    after = w.spine_counts()
    # Only the server's idempotency records (one per create) were added.
    assert (after["work_items"], after["system_refs"]) == (before["work_items"], before["system_refs"])
    assert after["event_log"] - before["event_log"] == 2 and len(w.events(event_type=LEDGER_EVENT)) == 2


async def test_creates_are_idempotent_and_a_reused_key_with_other_arguments_is_refused(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    campaign = w.campaigns[ACME]["Summer Email"]
    args = project_args(w, "Summer Email WF", campaign_id=campaign, idempotency_key="summer-email-wf")
    ok, first = await call(maya, "create_project", args)
    assert ok, first
    state = (await w.workfront_state(), w.spine_state())
    ok, again = await call(maya, "create_project", args)
    assert ok and again["project"]["id"] == first["project"]["id"] and again["tasks"] == first["tasks"]
    assert again["spine"] == first["spine"]
    assert (await w.workfront_state(), w.spine_state()) == state  # nothing new on either side

    ok, err = await call(maya, "create_project", {**args, "name": "Another name"})
    assert not ok and "idempotency_key" in err and "different call" in err

    task_args = {"project_id": first["project"]["id"], "name": "Send test email"}
    ok, t1 = await call(maya, "create_task", task_args)  # no key: the guard derives one from the arguments
    ok2, t2 = await call(maya, "create_task", task_args)
    assert ok and ok2 and t1["task"]["id"] == t2["task"]["id"] and t1["spine"] == t2["spine"]
    with open_store(w.sessions, ACME) as store:
        assert len(store.work_items.list(campaign)) == 5


async def test_readonly_user_is_denied_every_write_and_nothing_is_written(wf_world: WfWorld) -> None:
    w, sam = wf_world, wf_world.server("sam.taylor")
    ok, made = await call(w.server("maya.chen"), "create_project", project_args(w))
    task_id = made["tasks"][0]["id"]
    state = (await w.workfront_state(), w.spine_state())
    attempts = {
        "create_project": project_args(w, "Sneaky"),
        "create_task": {"project_id": made["project"]["id"], "name": "Sneaky task"},
        "update_task": {"task_id": task_id, "name": "Renamed"},
        "update_status": {"obj_type": "task", "obj_id": task_id, "status": "CPL"},
        "assign_resource": {"task_id": task_id, "user_id": w.user()},
        "create_issue": {"project_id": made["project"]["id"], "name": "Sneaky issue"},
        "add_note": {"obj_code": "PROJ", "obj_id": made["project"]["id"], "text": "hello"},
    }
    assert set(attempts) == WRITE_TOOLS
    for tool, args in attempts.items():
        ok, err = await call(sam, tool, args)
        assert not ok and "[denied]" in err and "readonly" in err, (tool, err)
    ok, read = await call(sam, "get_project", {"project_id": made["project"]["id"]})
    assert ok and read["task_total"] == 4
    assert (await w.workfront_state(), w.spine_state()) == state


async def test_budget_over_10k_waits_for_leadership_then_creates_exactly_once(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    campaign = w.campaigns[ACME]["Autumn Webinar"]
    args = project_args(w, "Autumn Webinar WF", campaign_id=campaign, budget={"amount": "25000.00", "currency": "USD"})
    before = (await w.workfront_state(), w.spine_counts())
    ok, answer = await call(maya, "create_project", args)
    assert ok and answer["status"] == "approval_required" and answer["required_group"] == "marketing-leadership"
    assert (await w.workfront_state(), w.spine_counts()) == before  # nothing created while waiting

    ok, err = await call(maya, "create_project", {**args, "approval_id": answer["approval_id"]})
    assert not ok and "pending" in err  # not approved yet
    w.approvals.resolve(ACME, answer["approval_id"], "dana.reyes", {"marketing-leadership"}, "approve", "ok")
    ok, made = await call(maya, "create_project", {**args, "approval_id": answer["approval_id"]})
    assert ok, made
    assert made["project"]["custom_fields"] == {"DE:Budget": "25000.00", "DE:Budget Currency": "USD"}
    assert made["spine"]["campaign_id"] == campaign
    ok, again = await call(maya, "create_project", {**args, "approval_id": answer["approval_id"]})
    assert ok and again == made  # consumed: it ran exactly once; a re-send replays the stored result
    projects = (await w.sandboxes[ACME].search("PROJ", {"name": "Autumn Webinar WF"})).total
    assert projects == 1

    ok, small = await call(
        maya, "create_project", project_args(w, "Small one", budget={"amount": "900", "currency": "EUR"})
    )
    assert ok and small["project"]["custom_fields"]["DE:Budget Currency"] == "EUR"


async def test_other_tenants_projects_and_campaigns_are_denied_by_policy(wf_world: WfWorld) -> None:
    w = wf_world
    frank, maya = w.server("frank.grimes", GLOBEX), w.server("maya.chen")
    expo = w.campaigns[GLOBEX]["Globex Expo"]
    ok, theirs = await call(frank, "create_project", project_args(w, "Expo WF", campaign_id=expo))
    assert ok, theirs
    project_id, task_id = theirs["project"]["id"], theirs["tasks"][0]["id"]
    globex_before = (await w.workfront_state(GLOBEX), w.spine_state(GLOBEX))
    acme_before = w.spine_counts()

    attempts = [
        ("get_project", {"project_id": project_id}),
        ("search", {"obj_code": "TASK", "filters": {"projectID": project_id}}),
        ("update_status", {"obj_type": "project", "obj_id": project_id, "status": "DED"}),
        ("update_task", {"task_id": task_id, "name": "hijacked"}),
        ("assign_resource", {"task_id": task_id, "user_id": w.user()}),
        ("create_task", {"project_id": project_id, "name": "hijack"}),
        ("add_note", {"obj_code": "TASK", "obj_id": task_id, "text": "hijack"}),
        ("create_project", project_args(w, "Steal the expo", campaign_id=expo)),
    ]
    for tool, args in attempts:
        ok, err = await call(maya, tool, args)
        # answered exactly like an unknown id: no tenant named, no hint that the id exists elsewhere
        assert not ok and "[not_found]" in err and GLOBEX not in err and "tenant" not in err, (tool, err)
    assert (await w.workfront_state(GLOBEX), w.spine_state(GLOBEX)) == globex_before
    assert w.spine_counts() == acme_before
    denials = [r for r in w.audit.tail(ACME, limit=50) if r.decision == "deny"]
    assert len(denials) == len(attempts) and all("tenant.cross" in r.rule_ids for r in denials)


async def test_add_note_redacts_emails_and_records_an_event_without_the_text(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    campaign = w.campaigns[ACME]["Spring Launch"]
    ok, made = await call(maya, "create_project", project_args(w, campaign_id=campaign))
    ok, note = await call(
        maya,
        "add_note",
        {"obj_code": "PROJ", "obj_id": made["project"]["id"], "text": "Ask jane.doe@example.com for the final copy"},
    )
    assert ok and "jane.doe@example.com" not in note["note"]["text"] and "[REDACTED:email]" in note["note"]["text"]
    (event,) = w.events(event_type="workfront.note_added")
    assert event.aggregate_id == campaign and "text" not in event.payload
    ok, err = await call(
        maya, "add_note", {"obj_code": "PROJ", "obj_id": made["project"]["id"], "text": "card 4111 1111 1111 1111"}
    )
    assert not ok and "[denied]" in err and "card" in err
