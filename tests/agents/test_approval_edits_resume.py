"""Approve with edits: the waiting conversation re-sends the edited call (not the requested one) and is told what
changed; the guard accepts it once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from langgraph.store.memory import InMemoryStore

from agents.assistant import Assistant
from agents.checkpoints import open_checkpointer
from agents.models.base import ModelRequest, ModelResponse
from policies.model import ToolCall
from spine.approval_delegations import DelegationStore
from spine.approval_desk import ApprovalDesk, EditCheck
from spine.models.governance import Approval
from tests.agents.graph.support import (
    TODAY,
    ScriptedModel,
    World,
    call,
    campaign_args,
    last_tool_results,
    make_world,
    result_text,
    route,
    say,
)


@pytest.fixture
def world(engine: Any) -> World:
    return make_world(engine)


def test_the_resumed_thread_runs_the_edited_call_once(world: World) -> None:
    import asyncio

    seen: list[str] = []

    def done(request: ModelRequest) -> ModelResponse:
        seen.extend(result_text(b) for b in last_tool_results(request))
        return say("Harbour Launch is created.")

    model = ScriptedModel({
        "supervisor": [route(("production", "create Harbour Launch with 40k"))],
        "production": [call("spine__create_campaign", **campaign_args("Harbour Launch", "40000")), done],
    })  # fmt: skip

    def recheck(a: Approval, args: dict[str, Any]) -> EditCheck:
        d = world.engine.decide(world.principal(a.requester), ToolCall(a.server, a.tool, args), commit_rate=False)
        group = d.required_group if d.effect == "require_approval" else None
        return EditCheck(d.effect, group, d.message(), list(d.rule_ids), world.engine.version)  # type: ignore[arg-type]

    async def go() -> None:
        async with open_checkpointer() as saver:
            maya = Assistant(model, world.servers("maya.chen"), saver, world.user("maya.chen"), store=InMemoryStore(),
                             today=TODAY)  # fmt: skip
            async with maya:
                turn = await maya.send("create Harbour Launch with 40k")
                assert turn.waiting
                approval_id = turn.approvals[0].approval_id
                desk = ApprovalDesk(world.sessions, DelegationStore(world.sessions, ("marketing-leadership", "vp")),
                                    audit=world.audit)  # fmt: skip
                original = desk.get("acme", approval_id).arguments
                edited = {**original, "budget_planned": {"amount": "30000", "currency": "USD"}}
                desk.approve_with_edits("acme", approval_id, "dana.reyes", ["marketing-leadership"], edited, recheck)
                resumed = await maya.resume_waiting(approval_id)
                assert resumed is not None and not resumed.waiting

    asyncio.run(go())
    (campaign,) = asyncio.run(world.campaigns_named("Harbour Launch"))
    assert Decimal(campaign["budget_planned"]["amount"]) == Decimal("30000")
    assert world.executed("create_campaign") == 1
    assert any("Approved with edits by dana.reyes" in t and "30000" in t for t in seen)
