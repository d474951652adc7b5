"""Bad input to every spine write tool: a tool error naming the argument, and nothing written anywhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.spine.server import build_spine_server
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_session_factory
from spine.demo import DEMO_TENANT, load_demo
from spine.models import Campaign, EventLog, Strategy
from spine.models.governance import Approval
from spine.repositories import open_store

MISSING = "00000000-0000-4000-8000-000000000000"
GROUPS = {"maya.chen": {"campaign-managers"}, "dana.reyes": {"marketing-leadership"}}


@pytest.fixture
def world(engine):  # type: ignore[no-untyped-def]
    sessions = make_session_factory(engine)
    load_demo(sessions, today=dt.date(2026, 11, 1))
    audit = AuditLog(sessions)
    approvals = ApprovalStore(sessions, audit=audit)
    engine_ = PolicyEngine.from_directory(rate_rules=())

    def server(user: str):  # type: ignore[no-untyped-def]
        principal = Principal(user, DEMO_TENANT, frozenset(GROUPS[user]))
        return build_spine_server(sessions, Guard("spine", engine_, approvals, audit, FixedPrincipal(principal)))

    with open_store(sessions, DEMO_TENANT) as store:
        campaign = store.campaigns.list(limit=1)[0]
        strategy = store.strategies.list()[0]
    return server, sessions, campaign, strategy


def counts(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as s:
        return {
            "campaigns": s.scalar(select(func.count()).select_from(Campaign)),
            "strategies": s.scalar(select(func.count()).select_from(Strategy)),
            "events": s.scalar(select(func.count()).select_from(EventLog)),
            "approvals": s.scalar(select(func.count()).select_from(Approval)),
            "versions": sorted(s.scalars(select(Campaign.version))),
            "strategy_status": sorted(s.scalars(select(Strategy.status))),
        }


GOOD_CAMPAIGN = {"name": "Bad Input Probe", "type": "standard", "tier": 2, "launch_date": "2027-03-01",
                 "owner_id": "maya.chen", "budget_planned": {"amount": "5000", "currency": "USD"}}  # fmt: skip
SECTION = {"sections": [{"heading": "Message", "body": "Plain words."}]}

# fmt: off
# (tool, user, arguments (callables get the world's campaign/strategy ids), the argument the error must name)
CASES: list[tuple[str, str, Any, str]] = [
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "colour": "red"}, "colour"),
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "name": "x" * 600}, "name"),
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "type": "webinar"}, "type"),
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "tier": 4}, "tier"),
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "end_date": "2027-02-01"}, "end_date"),
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "launch_date": "next tuesday"}, "launch_date"),
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "owner_id": "nobody.here"}, "owner_id"),
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "budget_planned": {"amount": "-5", "currency": "USD"}},
     "budget_planned"),
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "budget_planned": {"amount": "5", "currency": "XYZ"}},
     "budget_planned"),
    ("create_campaign", "maya.chen", {**GOOD_CAMPAIGN, "idempotency_key": "no spaces allowed"}, "idempotency_key"),
    ("update_campaign", "maya.chen", lambda c, s: {"campaign_id": MISSING, "expected_version": 1,
                                                   "changes": {"name": "Renamed"}}, "campaign_id"),
    ("update_campaign", "maya.chen", lambda c, s: {"campaign_id": "Q1-launch", "expected_version": 1,
                                                   "changes": {"name": "Renamed"}}, "campaign_id"),
    ("update_campaign", "maya.chen", lambda c, s: {"campaign_id": c.id, "expected_version": c.version + 7,
                                                   "changes": {"name": "Renamed"}}, "expected_version"),
    ("update_campaign", "maya.chen", lambda c, s: {"campaign_id": c.id, "expected_version": c.version,
                                                   "changes": {"status": "completed"}}, "status"),
    ("update_campaign", "maya.chen", lambda c, s: {"campaign_id": c.id, "expected_version": c.version,
                                                   "changes": {"end_date": "1999-01-01"}}, "end_date"),
    ("update_campaign", "maya.chen", lambda c, s: {"campaign_id": c.id, "expected_version": c.version,
                                                   "changes": {"mood": "sunny"}}, "mood"),
    ("update_campaign", "maya.chen", lambda c, s: {"campaign_id": c.id, "expected_version": c.version,
                                                   "changes": {}}, "changes"),
    ("draft_strategy", "maya.chen", lambda c, s: {"campaign_id": MISSING, "type": "messaging", "title": "Plan",
                                                  "content": SECTION}, "campaign_id"),
    ("draft_strategy", "maya.chen", lambda c, s: {"campaign_id": c.id, "type": "vibes", "title": "Plan",
                                                  "content": SECTION}, "type"),
    ("draft_strategy", "maya.chen", lambda c, s: {"campaign_id": c.id, "type": "messaging", "title": "P" * 300,
                                                  "content": SECTION}, "title"),
    ("submit_strategy", "maya.chen", lambda c, s: {"strategy_id": MISSING}, "strategy_id"),
    ("submit_strategy", "maya.chen", lambda c, s: {"strategy_id": "42"}, "strategy_id"),
    ("approve_strategy", "dana.reyes", lambda c, s: {"strategy_id": MISSING}, "strategy_id"),
    ("reject_strategy", "dana.reyes", lambda c, s: {"strategy_id": s.id, "reason": ""}, "reason"),
    ("reject_strategy", "dana.reyes", lambda c, s: {"strategy_id": s.id, "reason": "not now", "extra": 1}, "extra"),
    ("resolve_approval", "dana.reyes", lambda c, s: {"approval_id": MISSING, "decision": "approve"},
     "approval_id"),
    ("resolve_approval", "dana.reyes", lambda c, s: {"approval_id": "abc", "decision": "approve"},
     "approval_id"),
    ("resolve_approval", "dana.reyes", lambda c, s: {"approval_id": MISSING, "decision": "maybe"},
     "decision"),
]
# fmt: on


def test_every_spine_write_tool_is_covered() -> None:
    writes = {"create_campaign", "update_campaign", "draft_strategy", "submit_strategy", "approve_strategy",
              "reject_strategy", "resolve_approval"}  # fmt: skip
    assert {tool for tool, *_ in CASES} == writes


async def test_bad_input_names_the_argument_and_writes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    # One world for the whole table: after every bad call the spine must still be exactly as it was.
    server, sessions, campaign, strategy = world
    before = counts(sessions)
    problems = []
    for tool, user, args, field in CASES:
        arguments = args(campaign, strategy) if callable(args) else args
        async with Client(server(user)) as client:
            result = await client.call_tool(tool, arguments)
        text = result.content[0].text if result.content else ""
        if not result.is_error or field not in text or "Traceback" in text:
            problems.append(f"{tool} {field}: is_error={result.is_error} text={text[:200]!r}")
        if counts(sessions) != before:
            problems.append(f"{tool} {field}: something was written")
    assert not problems, "\n".join(problems)
