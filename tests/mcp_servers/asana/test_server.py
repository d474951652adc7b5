"""The Asana MCP server end to end: in-process MCP client, real guard and Cedar policies, real spine database,
embedded Asana sandbox per tenant. Bad input: test_server_bad_input.py; spine sync faults: test_server_sync.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp import Client

from connectors.asana.sandbox_store import new_gid
from mcp_servers.asana.server import build_asana_server
from mcp_servers.asana.spine_sync import asana_resource_tenant
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.guard.tenancy import MIXED_TENANTS
from policies.catalog import DEFAULT_CATALOG
from policies.model import Principal
from policies.pii import scan_response
from spine.repositories import open_store
from tests.mcp_servers.asana.server_world import ACME, CREATES, GLOBEX, READS, WRITES, AsanaWorld, make_world


@pytest.fixture
async def w(engine, tmp_path) -> AsyncIterator[AsanaWorld]:  # type: ignore[no-untyped-def]
    world = make_world(engine, tmp_path)
    yield world
    await world.close()


async def test_tools_are_listed_with_strict_schemas_docstrings_and_honest_annotations(w: AsanaWorld) -> None:
    async with Client(w.server("jordan.lee")) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == READS | WRITES == {s.tool for s in DEFAULT_CATALOG.for_server("asana")}
    for name, tool in tools.items():
        schema = tool.input_schema
        assert schema["additionalProperties"] is False, name
        assert "gid" in tool.description and len(tool.description) > 120, name
        assert tool.annotations.open_world_hint is True, name
        assert tool.annotations.read_only_hint is (name in READS), name
        assert ("idempotency_key" in schema["properties"]) is (name in CREATES), name
        gid_args = [k for k in schema["properties"] if k.endswith("_gid")]
        for arg in gid_args:
            assert schema["properties"][arg]["pattern"] == "^[0-9]{1,20}$", (name, arg)
    assert tools["update_task"].annotations.destructive_hint is True
    assert tools["add_task_to_section"].annotations.idempotent_hint is False
    assert "memberships" not in tools["update_task"].input_schema["properties"]
    assert "add_task_to_section" in tools["update_task"].description
    assert "next_page.offset" in tools["search_tasks"].description
    assert "YYYY-MM-DD" in tools["create_task"].description


async def test_round_trip_of_every_tool_keeps_the_spine_in_step(w: AsanaWorld) -> None:
    seed, campaign = w.seeds[ACME], w.campaigns[f"{ACME}:fresh"]
    jordan = seed.users["jordan.lee@acme.example.com"]
    ok, made = await w.call("jordan.lee", "create_project", {
        "name": "Summit 2027", "notes": "Austin", "team": seed.team_gid, "start_on": "2027-01-10",
        "due_on": "2027-03-12", "campaign_id": campaign, "idempotency_key": "summit-project-1"})  # fmt: skip
    assert ok, made
    project = made["data"]
    assert project["gid"].isdigit() and project["team"]["gid"] == seed.team_gid and project["due_on"] == "2027-03-12"
    assert made["spine"] == {"campaign_id": campaign, "work_item_id": None}

    ok, got = await w.call("jordan.lee", "get_project", {"project_gid": project["gid"]})
    assert ok and got["data"]["name"] == "Summit 2027" and got["spine"] is None
    ok, sections = await w.call("jordan.lee", "list_sections", {"project_gid": project["gid"]})
    assert ok and [s["name"] for s in sections["data"]] == ["Untitled section"] and sections["next_page"] is None
    section = sections["data"][0]["gid"]

    ok, made = await w.call("jordan.lee", "create_task", {
        "name": "Book venue", "projects": [project["gid"]], "assignee": jordan, "start_on": "2027-01-11",
        "due_on": "2027-01-31", "notes": "two halls"})  # fmt: skip
    assert ok, made
    task, link = made["data"], made["spine"]
    assert task["memberships"][0]["section"]["gid"] == section and task["assignee"]["gid"] == jordan
    assert link["campaign_id"] == campaign
    with open_store(w.sessions, ACME) as s:
        item = s.work_items.get(link["work_item_id"])
        assert s.refs.canonical_id("asana", "work_item", task["gid"]) == item.id
        assert s.refs.canonical_id("asana", "campaign", project["gid"]) == campaign
        created = s.events.list(event_type="asana_project.created", aggregate_id=campaign)
    assert (item.source_system, item.external_id, item.name, item.status) == ("asana", task["gid"], "Book venue",
                                                                             "not_started")  # fmt: skip
    assert (str(item.planned_start_date), str(item.planned_end_date), item.assignee_id) == (
        "2027-01-11",
        "2027-01-31",
        jordan,
    )
    assert item.description == "two halls" and len(created) == 1

    ok, got = await w.call("jordan.lee", "get_task", {"task_gid": task["gid"]})
    assert ok and got["data"]["name"] == "Book venue" and got["data"]["projects"][0]["gid"] == project["gid"]

    ok, sub = await w.call("jordan.lee", "create_subtask", {"parent_gid": task["gid"], "name": "Sign contract",
                                                            "due_on": "2027-01-20"})  # fmt: skip
    assert ok, sub
    assert sub["data"]["parent"]["gid"] == task["gid"]
    with open_store(w.sessions, ACME) as s:
        child = s.work_items.get(sub["spine"]["work_item_id"])
    assert child.parent_item_id == item.id and child.campaign_id == campaign

    ok, upd = await w.call("jordan.lee", "update_task", {"task_gid": task["gid"], "name": "Book the venue",
                                                         "due_on": "2027-02-05", "assignee": None})  # fmt: skip
    assert ok, upd
    assert upd["data"]["name"] == "Book the venue" and upd["data"]["assignee"] is None
    with open_store(w.sessions, ACME) as s:
        mirrored = s.work_items.get(item.id)
        updated = s.events.list(event_type="work_item.updated", aggregate_id=item.id)
    assert (mirrored.name, str(mirrored.planned_end_date), mirrored.assignee_id) == ("Book the venue", "2027-02-05",
                                                                                     None)  # fmt: skip
    assert set(updated[-1].payload["changed_fields"]) == {"name", "planned_end_date", "assignee_id"}
    assert updated[-1].payload["source_system"] == "asana" and updated[-1].actor == "jordan.lee"

    ok, story = await w.call("jordan.lee", "add_comment", {"task_gid": task["gid"], "text": "Hall B is free"})
    assert ok and story["data"]["text"] == "Hall B is free" and story["data"]["target"]["gid"] == task["gid"]
    ok, mine = await w.call("jordan.lee", "get_user_tasks", {"user_gid": jordan})
    assert ok and {t["name"] for t in mine["data"]} == set()  # the only one was unassigned above
    ok, moved = await w.call("jordan.lee", "add_task_to_section", {
        "section_gid": w.seeds[ACME].sections["Acme Backlog/Untitled section"], "task_gid": task["gid"]})  # fmt: skip
    assert ok and moved["data"] == {} and moved["spine"]["campaign_id"] == campaign
    ok, found = await w.call("jordan.lee", "search_tasks", {"text": "the venue"})
    assert ok and [t["gid"] for t in found["data"]] == [task["gid"]]
    assert len(found["data"][0]["memberships"]) == 2
    with open_store(w.sessions, ACME) as s:
        events = {e.event_type: e for e in s.events.list(aggregate_id=campaign)}
    assert events["asana_comment.added"].payload["story_gid"] == story["data"]["gid"]
    assert events["asana_task.moved"].payload["task_gid"] == task["gid"]


async def test_completing_and_reopening_a_task_moves_the_work_item_status(w: AsanaWorld) -> None:
    task, item = w.seeds[ACME].tasks["acme brief partners"], w.work_items[f"{ACME}:brief"]
    ok, done = await w.call("sofia.rossi", "update_task", {"task_gid": task, "completed": True})
    assert ok and done["data"]["completed"] is True and done["spine"]["work_item_id"] == item
    with open_store(w.sessions, ACME) as s:
        row = s.work_items.get(item)
    assert (row.status, row.percent_complete, row.actual_end_date is not None) == ("completed", 100, True)
    ok, _ = await w.call("sofia.rossi", "update_task", {"task_gid": task, "completed": False})
    with open_store(w.sessions, ACME) as s:
        row = s.work_items.get(item)
    assert ok and (row.status, row.actual_end_date) == ("in_progress", None)


async def test_search_tasks_pages_with_opaque_offsets(w: AsanaWorld) -> None:
    for i in range(7):
        ok, _ = await w.call("jordan.lee", "create_task", {"name": f"Paging item {i}", "notes": "pager"})
        assert ok
    seen, offset, pages = [], None, 0
    while True:
        args = {"text": "pager", "limit": 3} | ({"offset": offset} if offset else {})
        ok, page = await w.call("jordan.lee", "search_tasks", args)
        assert ok, page
        pages += 1
        seen += [t["name"] for t in page["data"]]
        if page["next_page"] is None:
            break
        assert page["next_page"]["uri"].endswith(page["next_page"]["path"]) and "offset=" in page["next_page"]["path"]
        offset = page["next_page"]["offset"]
    assert pages == 3 and seen == [f"Paging item {i}" for i in range(7)]
    ok, first = await w.call("jordan.lee", "search_tasks", {"text": "pager", "limit": 3})
    token = first["next_page"]["offset"]
    ok, err = await w.call("jordan.lee", "search_tasks", {"text": "other query", "limit": 3, "offset": token})
    assert not ok and "offset" in err
    ok, err = await w.call("jordan.lee", "search_tasks", {"text": "pager", "limit": 3, "offset": token[:-2] + "xx"})
    assert not ok and "offset" in err
    ok, err = await w.call("jordan.lee", "search_tasks", {"limit": 101})
    assert not ok and "limit" in err


async def test_readonly_user_reads_but_may_not_write(w: AsanaWorld) -> None:
    task = w.seeds[ACME].tasks["acme brief partners"]
    before, spine = w.asana_rows(), w.spine_counts()
    ok, got = await w.call("sam.taylor", "get_task", {"task_gid": task})
    assert ok and got["data"]["gid"] == task
    for tool, args in (("update_task", {"task_gid": task, "name": "hijacked"}),
                       ("create_task", {"name": "sneaky"}),
                       ("add_comment", {"task_gid": task, "text": "hello"})):  # fmt: skip
        ok, err = await w.call("sam.taylor", tool, args)
        assert not ok and "[denied]" in err and "readonly" in err, (tool, err)
    assert w.asana_rows() == before and w.spine_counts() == spine


async def test_email_in_a_comment_is_redacted_before_it_reaches_asana(w: AsanaWorld) -> None:
    task = w.seeds[ACME].tasks["acme draft email"]
    ok, story = await w.call("jordan.lee", "add_comment",
                             {"task_gid": task, "text": "Ask jane.doe@partner.example.com for the logo"})  # fmt: skip
    assert ok, story
    stored = w.story_texts()
    assert stored == ["Ask [REDACTED:email] for the logo"] and story["data"]["text"] == stored[0]
    rows = [r for r in w.audit.tail(ACME, limit=20) if r.tool == "add_comment"]
    assert any("email@" in str(r.detail) for r in rows if r.decision == "allow")
    # Free text of other Asana writes is not redacted but refused (policy pii=deny for them).
    ok, err = await w.call("jordan.lee", "create_task", {"name": "Call", "notes": "ring jane.doe@partner.example.com"})
    assert not ok and "[denied]" in err and "notes" in err
    assert w.story_texts() == stored


async def test_gids_of_another_tenant_are_denied(w: AsanaWorld) -> None:
    g_task, g_board = w.seeds[GLOBEX].tasks["globex brief partners"], w.seeds[GLOBEX].projects["Globex Partner Board"]
    before = (w.asana_rows(ACME), w.asana_rows(GLOBEX), w.spine_counts())
    attempts = [
        ("get_task", {"task_gid": g_task}),
        ("update_task", {"task_gid": g_task, "name": "mine now"}),
        ("add_comment", {"task_gid": g_task, "text": "hello"}),
        ("create_subtask", {"parent_gid": g_task, "name": "x"}),
        ("create_task", {"name": "x", "projects": [g_board]}),
        ("create_task", {"name": "x", "memberships": [{"project": g_board}]}),
        ("list_sections", {"project_gid": g_board}),
        ("create_project", {"name": "x", "campaign_id": w.campaigns[f"{GLOBEX}:fresh"]}),
    ]
    for tool, args in attempts:
        ok, err = await w.call("jordan.lee", tool, args)
        # answered exactly like an unknown gid: no tenant named, no hint that the gid exists elsewhere
        assert not ok and "[not_found]" in err and GLOBEX not in err and "tenant" not in err, (tool, err)
    assert (w.asana_rows(ACME), w.asana_rows(GLOBEX), w.spine_counts()) == before
    ok, own = await w.call("frank.grimes", "get_task", {"task_gid": g_task}, tenant=GLOBEX)
    assert ok and own["data"]["gid"] == g_task


def test_resource_tenant_resolves_gids_and_campaigns_through_the_spine(w: AsanaWorld) -> None:
    tenant_of = asana_resource_tenant(w.sessions)
    a_task, g_task = w.seeds[ACME].tasks["acme brief partners"], w.seeds[GLOBEX].tasks["globex brief partners"]
    assert tenant_of("get_task", {"task_gid": a_task}) == ACME
    assert tenant_of("get_task", {"task_gid": g_task}) == GLOBEX
    assert tenant_of("get_task", {"task_gid": w.seeds[ACME].tasks["acme unlinked idea"]}) is None
    assert tenant_of("create_task", {"memberships": [{"project": w.seeds[GLOBEX].projects["Globex Partner Board"]}]}) \
        == GLOBEX  # fmt: skip
    assert tenant_of("create_project", {"campaign_id": w.campaigns[f"{GLOBEX}:fresh"]}) == GLOBEX
    assert tenant_of("add_task_to_section", {"task_gid": a_task, "insert_before": g_task}) == MIXED_TENANTS
    assert tenant_of("search_tasks", {"text": "x"}) is None


def test_sandbox_gids_never_read_as_card_numbers_in_responses() -> None:
    # Regression: 16-digit gids starting 2-6 can pass Luhn; the guard then blocked ~6% of sandbox answers.
    gids = [new_gid() for _ in range(5000)]
    assert all(len(g) == 16 and g.isdigit() for g in gids)
    assert scan_response({"data": [{"gid": g} for g in gids]}) == []


def test_the_server_refuses_a_guard_of_another_server(w: AsanaWorld) -> None:
    guard = Guard("workfront", w.policy, w.approvals, w.audit, FixedPrincipal(Principal("jordan.lee", ACME)))
    with pytest.raises(ValueError, match="asana"):
        build_asana_server(w.sandboxes.__getitem__, w.sessions, guard)
