"""Whole conversations through the real graph and real in-process spine server, driven by a scripted model."""

from __future__ import annotations

import json

from langgraph.store.memory import InMemoryStore

from agents.assistant import Assistant
from agents.checkpoints import open_checkpointer
from agents.protocol import REJECTED_PREFIX
from tests.agents.graph.support import (
    TODAY,
    ScriptedModel,
    World,
    call,
    campaign_args,
    last_tool_results,
    result_text,
    route,
    say,
)


async def test_single_part_runs_a_tool_and_the_answer_is_the_reply(world: World) -> None:
    def answer(request):  # type: ignore[no-untyped-def]
        [result] = last_tool_results(request)
        data = json.loads(result_text(result))
        assert not result.is_error and data["count"] >= 1
        return say(f"You have {data['count']} campaigns.")

    model = ScriptedModel({
        "supervisor": [route(("analytics", "how many campaigns do we have?"))],
        "analytics": [call("spine__list_campaigns", limit=100), answer],
    })  # fmt: skip
    async with (
        open_checkpointer() as saver,
        Assistant(
            model, world.servers("maya.chen"), saver, world.user("maya.chen"), store=InMemoryStore(), today=TODAY
        ) as assistant,
    ):
        turn = await assistant.send("how many campaigns do we have?")
    assert turn.route == ["analytics"]
    assert turn.reply.startswith("You have ") and not turn.waiting
    assert [(c.server, c.tool, c.decision, c.result_status) for c in turn.tool_calls] == [
        ("spine", "list_campaigns", "allow", "ok")
    ]
    assert model.requests_for("synthesiser") == []  # one part: its answer is the reply


async def test_approval_interrupt_then_approve_runs_the_identical_call_once(world: World) -> None:
    args = campaign_args("Holiday Mega Push", "50000")
    seen: list[str] = []

    def after(request):  # type: ignore[no-untyped-def]
        [result] = last_tool_results(request)
        seen.append(result_text(result))
        return say("Created the campaign.")

    model = ScriptedModel({
        "supervisor": [route(("production", "create the Holiday Mega Push campaign with a 50k budget"))],
        "production": [call("spine__create_campaign", **args), after],
    })  # fmt: skip
    async with (
        open_checkpointer() as saver,
        Assistant(
            model, world.servers("maya.chen"), saver, world.user("maya.chen"), store=InMemoryStore(), today=TODAY
        ) as assistant,
    ):
        turn = await assistant.send("create the Holiday Mega Push campaign with a 50k budget")
        assert turn.waiting and turn.approvals[0].status == "pending"
        approval_id = turn.approvals[0].approval_id
        assert approval_id in turn.reply and "marketing-leadership" in turn.reply
        assert await world.campaigns_named("Holiday Mega Push") == []
        assert len(model.requests_for("production")) == 1  # the approval answer never reached the model

        still = await assistant.status(turn.thread_id)
        assert still.waiting
        await world.resolve(approval_id, "approve")
        done = await assistant.status(turn.thread_id)
    assert not done.waiting and done.reply == "Created the campaign."
    assert [(c.tool, c.decision, c.result_status) for c in done.tool_calls] == [
        ("create_campaign", "require_approval", "approval_required"),
        ("create_campaign", "allow", "ok"),
    ]
    assert done.tool_calls[1].arguments == {**args, "approval_id": approval_id}
    assert done.approvals[0].status == "approved"
    assert len(await world.campaigns_named("Holiday Mega Push")) == 1
    assert world.executed("create_campaign") == 1
    assert json.loads(seen[0])["name"] == "Holiday Mega Push"


async def test_rejected_approval_is_not_retried_and_the_model_is_told(world: World) -> None:
    args = campaign_args("Too Big Launch", "60000")
    told: list[str] = []

    def after(request):  # type: ignore[no-untyped-def]
        [result] = last_tool_results(request)
        told.append(result_text(result))
        assert result.is_error
        return say("Leadership rejected it: over budget.")

    model = ScriptedModel({
        "supervisor": [route(("production", "create Too Big Launch"))],
        "production": [call("spine__create_campaign", **args), after],
    })  # fmt: skip
    async with (
        open_checkpointer() as saver,
        Assistant(
            model, world.servers("maya.chen"), saver, world.user("maya.chen"), store=InMemoryStore(), today=TODAY
        ) as assistant,
    ):
        turn = await assistant.send("create Too Big Launch")
        await world.resolve(turn.approvals[0].approval_id, "reject", note="over budget this quarter")
        done = await assistant.status(turn.thread_id)
    assert told[0].startswith(REJECTED_PREFIX) and "over budget this quarter" in told[0]
    assert [(c.tool, c.result_status) for c in done.tool_calls] == [("create_campaign", "rejected")]
    assert done.approvals[0].status == "rejected" and not done.waiting
    assert await world.campaigns_named("Too Big Launch") == []
    assert world.executed("create_campaign") == 0
