"""The conversation state the graph keeps between turns: the focus, what still waits, and what models are told."""

from __future__ import annotations

from typing import Any

from agents.graph.approval import turn_fields
from agents.graph.state import TURN_LISTS, conversation_of
from agents.graph.synthesis import focus_after, still_waiting

PENDING = {"approval_id": "a-1", "required_group": "marketing-leadership", "server": "spine",
           "tool": "update_campaign", "reason": "over $10,000", "expires_at": "2026-11-05T09:30:00+00:00",
           "agent": "production", "arguments": {"campaign_id": "c-9"}, "tool_use_id": "t", "call_index": 0}  # fmt: skip


def _call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {"server": "spine", "tool": tool, "arguments": arguments, "decision": "allow", "result_status": "ok"}


def test_focus_keeps_the_last_campaign_and_approval_and_ignores_a_turn_that_only_read_approvals() -> None:
    state: dict[str, Any] = {
        "parts": [{"agent": "production", "request": "lift the Falcon budget to 30k"}],
        "tool_calls": [_call("list_campaigns"), _call("update_campaign", campaign_id="c-9")],
        "approvals": [{"approval_id": "a-1", "status": "pending"}],
    }
    focus = focus_after(state)  # type: ignore[arg-type]
    assert focus == {"agent": "production", "request": ["lift the Falcon budget to 30k"], "campaign_id": "c-9",
                     "approval_id": "a-1"}  # fmt: skip
    status_turn = {"focus": focus, "parts": [{"agent": "production", "request": "any news?"}],
                   "tool_calls": [_call("get_approval", approval_id="a-1")], "approvals": []}  # fmt: skip
    assert focus_after(status_turn) == focus  # type: ignore[arg-type]
    other = {"focus": focus, "parts": [{"agent": "analytics", "request": "how is Heron doing"}],
             "tool_calls": [_call("performance_summary", campaign_id="c-2")], "approvals": []}  # fmt: skip
    moved = focus_after(other)  # type: ignore[arg-type]
    assert moved["campaign_id"] == "c-2" and moved["agent"] == "analytics" and moved["approval_id"] == "a-1"


def test_what_still_waits_is_said_once_unless_the_reply_names_it() -> None:
    state: dict[str, Any] = {"suspended": [{"pending": PENDING}]}
    note = still_waiting(state, "Heron spent $4,200 this month.")  # type: ignore[arg-type]
    assert note == ("Still waiting: spine.update_campaign needs approval by a member of marketing-leadership "
                    "(approval a-1, pending, expires 2026-11-05 09:30 UTC).")  # fmt: skip
    assert still_waiting(state, "Approval a-1: pending.") == ""  # type: ignore[arg-type]
    assert still_waiting({}, "anything") == ""  # type: ignore[arg-type]


def test_models_are_told_the_open_question_the_focus_and_every_waiting_call() -> None:
    newer = {**PENDING, "approval_id": "a-2"}
    state: dict[str, Any] = {"awaiting": [{"agent": "production", "request": "add a task 'Stage lights'"}],
                             "focus": {"campaign_id": "c-9"}, "suspended": [{"pending": PENDING}],
                             "pending": newer}  # fmt: skip
    told = conversation_of(state)
    assert told["awaiting"] == state["awaiting"] and told["focus"] == {"campaign_id": "c-9"}
    assert [w["approval_id"] for w in told["waiting"]] == ["a-1", "a-2"]
    assert "arguments" not in told["waiting"][0]  # the call's arguments are not repeated to a model


def test_a_set_aside_turn_keeps_every_turn_field_with_empty_lists_for_missing_ones() -> None:
    kept = turn_fields({"request": "lift the Falcon budget", "pending": PENDING, "tool_calls": [_call("x")]})
    assert kept["request"] == "lift the Falcon budget" and kept["pending"] == PENDING
    assert kept["tool_calls"] == [_call("x")] and all(kept[k] == [] for k in TURN_LISTS if k != "tool_calls")
