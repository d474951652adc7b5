"""The spine MCP server end to end: real in-process MCP client, real guard, real Cedar engine, real database."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.spine.server import build_spine_server
from mcp_servers.spine.setup_tools import SetupUnavailableError
from policies.catalog import DEFAULT_CATALOG
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_session_factory
from spine.demo import DEMO_TENANT, load_demo

GROUPS = {
    "maya.chen": {"campaign-managers"},
    "dana.reyes": {"marketing-leadership"},
    "victor.hale": {"vp", "marketing-leadership"},
    "sam.taylor": {"readonly-users"},
}


@pytest.fixture(scope="module")
def policy_engine() -> PolicyEngine:
    return PolicyEngine.from_directory(fx_rates={"USD": Decimal(1), "EUR": Decimal("1.08")})


@pytest.fixture
def world(engine, policy_engine):  # type: ignore[no-untyped-def]
    sessions = make_session_factory(engine)
    load_demo(sessions, today=dt.date(2026, 11, 1))
    audit = AuditLog(sessions)
    approvals = ApprovalStore(sessions, audit=audit)

    def server_for(user: str):  # type: ignore[no-untyped-def]
        principal = Principal(user, DEMO_TENANT, frozenset(GROUPS[user]))
        guard = Guard("spine", policy_engine, approvals, audit, FixedPrincipal(principal))
        return build_spine_server(sessions, guard, campaign_setup=_no_workflows)

    return server_for, audit


def _no_workflows(**_: object) -> dict[str, object]:
    # Listed here, never run (test_start_campaign_setup runs it).
    raise SetupUnavailableError("no workflow worker in this test")


async def call(server, tool: str, args: dict[str, Any]) -> tuple[bool, Any]:  # type: ignore[no-untyped-def]
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    if result.is_error:
        return False, result.content[0].text
    return True, result.structured_content


async def resolve(server, approval_id: str, decision: str, note: str | None = None) -> tuple[bool, Any]:  # type: ignore[no-untyped-def]
    args = {"approval_id": approval_id, "decision": decision}
    return await call(server, "resolve_approval", args if note is None else {**args, "note": note})


def campaign_args(name: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "standard", "tier": 2, "launch_date": "2027-02-01", "end_date": "2027-03-31",
            "owner_id": "maya.chen", "budget_planned": {"amount": amount, "currency": "USD"},
            "channels": ["email", "web"], **extra}  # fmt: skip


async def test_tools_are_listed_with_strict_schemas_and_docstrings(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    async with Client(server_for("maya.chen")) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"create_campaign", "update_campaign", "performance_summary", "resolve_approval"} <= set(tools)
    create = tools["create_campaign"]
    assert create.input_schema["additionalProperties"] is False
    assert "idempotency_key" in create.input_schema["properties"]
    assert "approval" in create.description and create.annotations.read_only_hint is False
    assert tools["get_campaign"].annotations.read_only_hint is True


# Expected annotations per tool: (read_only, destructive, idempotent). Writes that overwrite data are
# destructive; state transitions are not idempotent.
FLAGS: dict[str, tuple[bool, bool, bool]] = {
    "create_campaign": (False, False, True),
    "get_campaign": (True, False, True),
    "list_campaigns": (True, False, True),
    "update_campaign": (False, True, False),
    "draft_strategy": (False, False, True),
    "submit_strategy": (False, False, False),
    "approve_strategy": (False, False, False),
    "reject_strategy": (False, False, False),
    "list_strategies": (True, False, True),
    "get_strategy": (True, False, True),
    "list_work_items": (True, False, True),
    "get_work_item": (True, False, True),
    "lookup_canonical_id": (True, False, True),
    "lookup_external_id": (True, False, True),
    "get_tracking_keys": (True, False, True),
    "performance_summary": (True, False, True),
    "list_approvals": (True, False, True),
    "get_approval": (True, False, True),
    "resolve_approval": (False, False, False),
    "start_campaign_setup": (False, False, True),
    "audit_tail": (True, False, True),
}
# Arguments holding a canonical (or approval) id: the description must name the id format.
ID_ARGS = {"campaign_id", "campaign_ids", "strategy_id", "item_id", "canonical_id", "approval_id"}  # fmt: skip


async def test_every_tool_has_a_precise_docstring_and_honest_annotations(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    async with Client(server_for("maya.chen")) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == set(FLAGS) == {spec.tool for spec in DEFAULT_CATALOG.for_server("spine")}
    for name, (read_only, destructive, idempotent) in FLAGS.items():
        tool = tools[name]
        text = " ".join((tool.description or "").split())  # a line break must not hide a phrase
        assert len(text) >= 120, name
        assert ("Read-only" in text) is read_only, name
        assert ("Side effect" in text) is not read_only, name
        # approval_id is a control argument everywhere except where it names the approval the tool acts on.
        named = set(tool.input_schema["properties"]) - {"approval_id"} | set(tool.input_schema.get("required", []))
        if ID_ARGS & named:
            assert "UUID" in text, name
        hints = tool.annotations
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (
            read_only, destructive, idempotent
        ), name  # fmt: skip
        # The spine is our own store, not an outside system; campaign setup also creates in Workfront or Asana.
        assert hints.open_world_hint is (name == "start_campaign_setup"), name


async def test_small_budget_is_created_and_idempotent(world) -> None:  # type: ignore[no-untyped-def]
    server_for, audit = world
    maya = server_for("maya.chen")
    ok, first = await call(
        maya, "create_campaign", campaign_args("Spring Webinar", "5000", idempotency_key="k-spring-1")
    )
    assert ok, first
    ok, again = await call(
        maya, "create_campaign", campaign_args("Spring Webinar", "5000", idempotency_key="k-spring-1")
    )
    assert ok and again["id"] == first["id"]
    decisions = [r.decision for r in audit.tail(DEMO_TENANT, limit=50) if r.tool == "create_campaign"]
    assert decisions.count("executed") == 2 and "allow" in decisions
    assert audit.verify().ok


async def test_a_reused_key_names_idempotency_key_and_writes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    maya = server_for("maya.chen")
    ok, first = await call(maya, "create_campaign", campaign_args("Key Probe", "5000", idempotency_key="k-probe-1"))
    assert ok, first
    ok, text = await call(maya, "create_campaign", campaign_args("Other Name", "5000", idempotency_key="k-probe-1"))
    assert not ok and "idempotency_key" in text and "client_request_key" not in text
    ok, listed = await call(maya, "list_campaigns", {"name_contains": "Other Name"})
    assert ok and listed["count"] == 0


async def test_draft_strategy_is_deduplicated_by_idempotency_key(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    maya = server_for("maya.chen")
    ok, campaign = await call(maya, "create_campaign", campaign_args("Draft Probe", "5000"))
    assert ok, campaign
    draft = {"campaign_id": campaign["id"], "type": "messaging", "title": "Launch message",
             "content": {"sections": [{"heading": "Message", "body": "Plain words."}]}}  # fmt: skip
    ok, first = await call(maya, "draft_strategy", {**draft, "idempotency_key": "draft-0001"})
    assert ok, first
    ok, again = await call(maya, "draft_strategy", {**draft, "idempotency_key": "draft-0001"})
    assert ok and again["id"] == first["id"]
    ok, text = await call(maya, "draft_strategy", {**draft, "title": "Another title", "idempotency_key": "draft-0001"})
    assert not ok and "idempotency_key" in text
    ok, other = await call(maya, "draft_strategy", {**draft, "idempotency_key": "draft-0002"})
    assert ok and other["id"] != first["id"]
    ok, listed = await call(maya, "list_strategies", {"campaign_id": campaign["id"]})
    assert ok and sorted(s["id"] for s in listed["strategies"]) == sorted([first["id"], other["id"]])


async def test_list_campaigns_pages_and_filters_names_in_the_database(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    maya = server_for("maya.chen")
    ok, everything = await call(maya, "list_campaigns", {"limit": 500})
    assert ok and everything["next_offset"] is None and everything["count"] >= 5
    ids, offset = [], 0
    while offset is not None:
        ok, page = await call(maya, "list_campaigns", {"limit": 2, "offset": offset})
        assert ok and page["count"] == len(page["campaigns"]) <= 2
        ids += [c["id"] for c in page["campaigns"]]
        offset = page["next_offset"]
    assert ids == [c["id"] for c in everything["campaigns"]]  # pages are disjoint, ordered and complete

    for name in ("Paging 50% Off", "Paging 50 Percent", "Paging_Underscore"):
        ok, made = await call(maya, "create_campaign", campaign_args(name, "5000"))
        assert ok, made
    ok, found = await call(maya, "list_campaigns", {"name_contains": "paging 50%"})
    assert ok and [c["name"] for c in found["campaigns"]] == ["Paging 50% Off"]  # '%' is literal
    ok, found = await call(maya, "list_campaigns", {"name_contains": "g_U"})
    assert ok and [c["name"] for c in found["campaigns"]] == ["Paging_Underscore"]  # '_' is literal
    ok, err = await call(maya, "list_campaigns", {"offset": -1})
    assert not ok and "offset" in err


async def test_budget_over_threshold_waits_for_leadership_then_runs_once(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    maya, dana = server_for("maya.chen"), server_for("dana.reyes")
    args = campaign_args("Big Launch", "50000", idempotency_key="k-big-launch")
    ok, answer = await call(maya, "create_campaign", args)
    assert ok and answer["status"] == "approval_required"
    assert answer["required_group"] == "marketing-leadership"
    approval_id = answer["approval_id"]

    ok, listed = await call(maya, "list_campaigns", {"name_contains": "Big Launch"})
    assert ok and listed["count"] == 0  # nothing was created while waiting

    ok, err = await resolve(maya, approval_id, "approve")
    assert not ok  # the requester cannot approve (campaign-managers may not even resolve)
    ok, resolved = await resolve(dana, approval_id, "approve", note="fine")
    assert ok and resolved["status"] == "approved" and resolved["note"] == "fine"

    edited = {**args, "budget_planned": {"amount": "90000", "currency": "USD"}, "approval_id": approval_id}
    ok, err = await call(maya, "create_campaign", edited)
    assert not ok and "approval" in err.lower()

    ok, created = await call(maya, "create_campaign", {**args, "approval_id": approval_id})
    assert ok and created["name"] == "Big Launch"
    ok, again = await call(maya, "create_campaign", {**args, "approval_id": approval_id})
    assert ok and again == created  # consumed: executes exactly once; a re-send replays the stored result
    ok, listed = await call(maya, "list_campaigns", {"name_contains": "Big Launch"})
    assert ok and listed["count"] == 1


async def test_vp_needed_above_100k_leadership_is_not_enough(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    maya, dana, victor = server_for("maya.chen"), server_for("dana.reyes"), server_for("victor.hale")
    ok, answer = await call(maya, "create_campaign", campaign_args("Mega Launch", "250000"))
    assert ok and answer["required_group"] == "vp"
    ok, err = await call(dana, "resolve_approval", {"approval_id": answer["approval_id"], "decision": "approve"})
    assert not ok and "vp" in err
    ok, _ = await call(victor, "resolve_approval", {"approval_id": answer["approval_id"], "decision": "approve"})
    assert ok


async def test_field_authority_readonly_unknown_args_and_stale_version(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    maya, sam = server_for("maya.chen"), server_for("sam.taylor")
    ok, listed = await call(maya, "list_campaigns", {"limit": 1})
    campaign = listed["campaigns"][0]

    target = {"campaign_id": campaign["id"], "expected_version": campaign["version"]}
    ok, err = await call(maya, "update_campaign", {**target, "changes": {"status": "launched"}})
    assert not ok and "execution system" in err

    ok, err = await call(sam, "update_campaign", {**target, "changes": {"name": "Renamed by readonly"}})
    assert not ok and "[denied]" in err

    ok, err = await call(maya, "get_campaign", {"campaign_id": campaign["id"], "include_secrets": True})
    assert not ok and "include_secrets" in err and "unknown argument" in err

    ok, err = await call(maya, "update_campaign", {"campaign_id": campaign["id"], "expected_version": 999,
                                                   "changes": {"name": "Stale write"}})  # fmt: skip
    assert not ok and "version" in err
    ok, same = await call(maya, "get_campaign", {"campaign_id": campaign["id"]})
    assert same["name"] == campaign["name"] and same["version"] == campaign["version"]


async def test_performance_summary_and_lookups(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    maya = server_for("maya.chen")
    ok, perf = await call(maya, "performance_summary", {"start": "2026-01-01", "end": "2026-12-31"})
    assert ok and perf["by_campaign"] and perf["by_channel"]
    first = perf["by_campaign"][0]["metrics"]
    if first["impressions"]:
        assert first["ctr"] == pytest.approx(first["clicks"] / first["impressions"], rel=1e-3)
    ok, err = await call(maya, "performance_summary", {"start": "2026-12-31", "end": "2026-01-01"})
    assert not ok and "[invalid] end:" in err

    ok, listed = await call(maya, "list_campaigns", {})
    with_refs = next(c for c in listed["campaigns"] if c["external_refs"])
    system, external = next(iter(with_refs["external_refs"].items()))
    ok, found = await call(maya, "lookup_canonical_id", {"system": system, "external_id": external})
    assert ok and found["canonical_id"] == with_refs["id"]


async def test_work_items_are_paged_and_the_text_copy_is_compact(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _ = world
    ok, every = await call(server_for("maya.chen"), "list_work_items", {"limit": 500})
    assert ok and every["next_offset"] is None and every["count"] == len(every["work_items"]) > 3
    ok, first = await call(server_for("maya.chen"), "list_work_items", {"limit": 2})
    assert ok and first["count"] == 2 and first["next_offset"] == 2
    ok, rest = await call(server_for("maya.chen"), "list_work_items", {"limit": 500, "offset": first["next_offset"]})
    ids = [w["id"] for w in first["work_items"] + rest["work_items"]]
    assert ids == [w["id"] for w in every["work_items"]]  # the pages add up to the whole list, in order
    async with Client(server_for("maya.chen")) as client:
        result = await client.call_tool("list_work_items", {})
    text = result.content[0].text
    assert text == json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))  # no indent
