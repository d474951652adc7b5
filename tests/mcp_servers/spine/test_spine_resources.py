"""The spine server's resources and prompts: guarded reads with tenant rules and audit, listing, update events."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.subscriptions import InMemorySubscriptionBus

from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.spine.server import build_spine_server
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_session_factory
from spine.demo import DEMO_TENANT, load_demo
from spine.repositories import open_store

GROUPS = {"maya.chen": {"campaign-managers"}, "dana.reyes": {"marketing-leadership"}}


@pytest.fixture(scope="module")
def policy_engine() -> PolicyEngine:
    return PolicyEngine.from_directory(fx_rates={"USD": Decimal(1)})


@pytest.fixture
def world(engine, policy_engine):  # type: ignore[no-untyped-def]
    sessions = make_session_factory(engine)
    load_demo(sessions, today=dt.date(2026, 11, 1))
    audit = AuditLog(sessions)
    approvals = ApprovalStore(sessions, audit=audit)
    bus = InMemorySubscriptionBus()  # one bus: the servers of one process share their events

    def server_for(user: str, tenant: str = DEMO_TENANT):  # type: ignore[no-untyped-def]
        principal = Principal(user, tenant, frozenset(GROUPS.get(user, set())))
        guard = Guard("spine", policy_engine, approvals, audit, FixedPrincipal(principal))
        return build_spine_server(sessions, guard, subscriptions=bus)

    return server_for, sessions, audit


def _campaign_ids(sessions: Any, tenant: str) -> set[str]:
    with open_store(sessions, tenant) as store:
        return {c.id for c in store.campaigns.list(limit=1000)}


async def test_campaigns_are_listed_and_read_only_within_the_callers_tenant(world) -> None:  # type: ignore[no-untyped-def]
    server_for, sessions, audit = world
    ours = _campaign_ids(sessions, DEMO_TENANT)
    other_tenant = next(t for t in ("globex",) if _campaign_ids(sessions, t))
    theirs = _campaign_ids(sessions, other_tenant)
    async with Client(server_for("maya.chen")) as client:
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        campaign_id = sorted(ours)[0]
        read = await client.read_resource(f"campaign://{campaign_id}")
        with pytest.raises(Exception, match=r"\[not_found\] campaign_id"):  # another tenant's id reads as unknown
            await client.read_resource(f"campaign://{sorted(theirs)[0]}")
    assert {u.removeprefix("campaign://") for u in listed if u.startswith("campaign://")} == ours
    assert {"campaign://{campaign_id}", "approval://{approval_id}"} <= templates
    body = json.loads(read.contents[0].text)
    assert body["id"] == campaign_id and body["tenant_id"] == DEMO_TENANT
    reads = [e for e in audit.tail(DEMO_TENANT, limit=50) if e.tool == "get_campaign" and e.actor == "maya.chen"]
    # Resource reads are audited like the tool calls they are: the foreign id's read is recorded as failed.
    assert {e.decision for e in reads} == {"allow", "failed"}


async def test_a_pending_approval_is_a_resource_and_its_resolution_is_pushed(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _, _ = world
    maya, dana = server_for("maya.chen"), server_for("dana.reyes")
    args = {"name": "Resource Launch", "type": "standard", "tier": 2, "launch_date": "2027-02-01",
            "owner_id": "maya.chen", "budget_planned": {"amount": "50000", "currency": "USD"}}  # fmt: skip
    async with Client(maya) as requester, Client(dana) as approver:
        held = (await requester.call_tool("create_campaign", args)).structured_content
        assert held["status"] == "approval_required"
        uri = f"approval://{held['approval_id']}"
        assert uri in {str(r.uri) for r in (await approver.list_resources()).resources}
        assert json.loads((await approver.read_resource(uri)).contents[0].text)["status"] == "pending"
        async with requester.listen(resource_subscriptions=[uri]) as events:
            await approver.call_tool("resolve_approval", {"approval_id": held["approval_id"], "decision": "approve"})
            with anyio.fail_after(30):  # a hang guard, not a timing assertion
                event = await events.__anext__()
        assert str(event.uri) == uri
        assert json.loads((await requester.read_resource(uri)).contents[0].text)["status"] == "approved"
        assert uri not in {str(r.uri) for r in (await approver.list_resources()).resources}  # no longer pending


async def test_the_workflow_prompts_are_listed_with_titles_and_fill_in_their_arguments(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _, _ = world
    async with Client(server_for("maya.chen")) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        filled = await client.get_prompt("plan_tier1_launch", {"campaign_name": "Aurora", "launch_date": "2027-09-01"})
    assert set(prompts) == {"plan_tier1_launch", "weekly_performance_review", "prepare_approval_request"}
    assert all(p.title and p.description for p in prompts.values())
    assert [a.name for a in prompts["plan_tier1_launch"].arguments if a.required] == ["campaign_name", "launch_date"]
    text = filled.messages[0].content.text
    assert "Aurora" in text and "2027-09-01" in text and "create_campaign" in text


async def test_the_server_reports_its_version_and_every_tool_has_a_title(world) -> None:  # type: ignore[no-untyped-def]
    server_for, _, _ = world
    async with Client(server_for("maya.chen")) as client:
        info = client.server_info
        tools = (await client.list_tools()).tools
    assert info is not None and info.version and info.version != "0+unknown"
    assert all(t.title and t.annotations and t.annotations.title == t.title for t in tools)
