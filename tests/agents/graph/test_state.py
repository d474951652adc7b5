"""Graph state the LangGraph way: nodes return only what changed, the list fields' reducers merge it, and a new
turn starts every per-turn list empty (``Overwrite``), so it never inherits the last turn's calls or approvals."""

from __future__ import annotations

from typing import Any

from langgraph.store.memory import InMemoryStore

from agents.assistant import Assistant
from agents.checkpoints import open_checkpointer
from agents.graph import build_graph
from agents.graph.state import HISTORY_TURNS, merge_approvals, merge_tool_calls, recent_history
from tests.agents.graph.support import TODAY, ScriptedModel, World, call, campaign_args, route, say


def _call(tool: str, index: int, status: str = "ok") -> dict[str, Any]:
    return {"server": "spine", "tool": tool, "arguments": {}, "decision": "allow", "result_status": status,
            "index": index}  # fmt: skip


def test_tool_call_records_are_appended_or_replaced_by_index() -> None:
    calls = merge_tool_calls([], [_call("list_campaigns", 0), _call("create_campaign", 1, "approval_required")])
    calls = merge_tool_calls(calls, [_call("create_campaign", 1, "rejected"), _call("list_strategies", 2)])
    assert [(c["tool"], c["result_status"]) for c in calls] == [
        ("list_campaigns", "ok"), ("create_campaign", "rejected"), ("list_strategies", "ok")
    ]  # fmt: skip


def test_a_record_checkpointed_without_an_index_is_replaced_at_its_position() -> None:
    older = [{k: v for k, v in _call(tool, i).items() if k != "index"} for i, tool in enumerate(("a", "b"))]
    merged = merge_tool_calls(older, [_call("b", 1, "rejected"), _call("c", 2)])
    assert [(c["tool"], c["result_status"]) for c in merged] == [("a", "ok"), ("b", "rejected"), ("c", "ok")]


def test_approvals_are_appended_or_replaced_by_approval_id() -> None:
    pending = {"approval_id": "a-1", "status": "pending", "required_group": "marketing-leadership", "tool": "x"}
    approvals = merge_approvals([pending], [{**pending, "approval_id": "a-2"}])
    approvals = merge_approvals(approvals, [{**pending, "status": "approved"}])
    assert [(a["approval_id"], a["status"]) for a in approvals] == [("a-1", "approved"), ("a-2", "pending")]


def test_history_keeps_only_the_recent_turns() -> None:
    history: list[dict[str, Any]] = []
    for turn in range(HISTORY_TURNS + 3):
        history = recent_history(history, [{"role": "user", "content": f"q{turn}"},
                                           {"role": "assistant", "content": f"a{turn}"}])  # fmt: skip
    assert len(history) == 2 * HISTORY_TURNS
    assert history[0] == {"role": "user", "content": "q3"} and history[-1]["content"] == f"a{HISTORY_TURNS + 2}"


async def test_a_second_turn_does_not_inherit_the_first_turns_lists(world: World) -> None:
    big = campaign_args("Restart Launch", "40000")
    model = ScriptedModel({
        "supervisor": [route(("production", "create Restart Launch with 40k")), route(("analytics", "how many?"))],
        "production": [call("spine__create_campaign", **big), say("It was rejected.")],
        "analytics": [call("spine__list_campaigns", limit=1), say("One at least.")],
    })  # fmt: skip
    user = world.user("maya.chen")
    async with (
        open_checkpointer() as saver,
        Assistant(model, world.servers("maya.chen"), saver, user, store=InMemoryStore(), today=TODAY) as maya,
    ):
        first = await maya.send("create Restart Launch with 40k")
        await world.resolve(first.approvals[0].approval_id, "reject", note="not this quarter")
        done = await maya.status(first.thread_id)
        second = await maya.send("how many campaigns?", first.thread_id)
        state = (await build_graph(saver).aget_state({"configurable": {"thread_id": first.thread_id}})).values

    assert [(c.tool, c.result_status) for c in done.tool_calls] == [("create_campaign", "rejected")]
    assert [(a.approval_id, a.status) for a in done.approvals] == [(first.approvals[0].approval_id, "rejected")]
    assert second.route == ["analytics"] and second.approvals == [] and not second.waiting
    assert [(c.tool, c.result_status) for c in second.tool_calls] == [("list_campaigns", "ok")]
    assert [a["answer"] for a in state["answers"]] == ["One at least."]
    assert state["messages"] == [] and state["results"] == [] and state["pending"] is None
    assert [m["content"] for m in state["history"]] == [
        "create Restart Launch with 40k", "It was rejected.", "how many campaigns?", "One at least."
    ]  # fmt: skip
