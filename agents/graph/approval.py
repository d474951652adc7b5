"""The approval node: wait for a human decision, then run the approved call once or tell the model it was refused;
a new user message that arrives meanwhile is answered as a turn of its own while the call keeps waiting.

``interrupt()`` comes before anything with a side effect: LangGraph re-runs the whole node on resume (only state is
read before it). A node run interrupts at most once; a later run (after a message was answered) waits again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite, interrupt
from pydantic import BaseModel, ConfigDict, Field

from agents.bridge import APPROVAL_ARG
from agents.graph.agents import record_of
from agents.graph.state import (
    TURN_FIELDS,
    TURN_LISTS,
    ChatEvent,
    GraphContext,
    TurnState,
    fresh_turn,
    merge_approvals,
    merge_tool_calls,
)
from agents.models.base import ToolResultBlock
from agents.protocol import REJECTED_PREFIX

OutcomeStatus = Literal["approved", "rejected", "expired", "consumed"]


class ApprovalOutcome(BaseModel):
    """How an approval was resolved; built from the spine's approval record (extra fields are ignored)."""

    model_config = ConfigDict(extra="ignore")
    approval_id: str = Field(min_length=1)
    status: OutcomeStatus
    resolved_by: str | None = None
    note: str | None = None
    # Approved with edits: the approval holds the edited call, and that is the call to re-send.
    arguments: dict[str, Any] | None = None
    edits: list[dict[str, Any]] | None = None


def interrupt_payload(pending: dict[str, Any], also_waiting: list[str] | None = None) -> dict[str, Any]:
    """What a waiting thread shows its caller: which call waits, for whom, and why (and which older calls of the
    thread wait too, each on its own approval)."""
    keys = ("approval_id", "required_group", "server", "tool", "arguments", "reason", "expires_at", "agent")
    return {**{k: pending.get(k) for k in keys}, "also_waiting": list(also_waiting or [])}


def approval_notice(pending: Mapping[str, Any]) -> str:
    """The sentence that tells the user a call waits: which call, who must approve, the approval id."""
    reason = f" ({pending['reason']})" if pending.get("reason") else ""
    return (
        f"This needs an approval before it runs: {pending.get('server')}.{pending.get('tool')}{reason}. "
        f"A member of {pending.get('required_group')} must approve it; approval id: {pending.get('approval_id')}. "
        "The conversation continues as soon as it is approved or rejected."
    )


def turn_fields(state: Mapping[str, Any]) -> dict[str, Any]:
    """The turn in flight, as kept while it waits under newer messages."""
    return {k: (state.get(k) if state.get(k) is not None else ([] if k in TURN_LISTS else None)) for k in TURN_FIELDS}


async def approval(
    state: TurnState, runtime: Runtime[GraphContext]
) -> Command[Literal["tools", "supervisor", "approval"]]:
    """Interrupt until resumed. An ``ApprovalOutcome``: approved or consumed -> re-send the identical call with
    approval_id (a consumed one answers with the stored result of the call that already ran), else tell the model it
    was refused. A new user message ``{"message": text}``: keep the waiting turn on the ``suspended`` stack and
    answer the message as a turn of its own; its finish hands back here, and the wait goes on.

    The waiting turn is the current one (``pending`` set) or, after a newer message was answered, the top of the
    stack, which this node restores before it continues."""
    stack = list(state.get("suspended") or [])
    current = state.get("pending") is not None
    waiting = turn_fields(state) if current else stack[-1]
    pending = waiting["pending"] or {}
    below = stack if current else stack[:-1]
    early = dict(state.get("early") or {})
    answer = early.get(pending.get("approval_id", "")) or interrupt(
        interrupt_payload(pending, [s["pending"]["approval_id"] for s in below])
    )
    if isinstance(answer, dict) and "message" in answer:
        return _answer_meanwhile(state, str(answer["message"]), [*below, waiting], pending, current)
    outcome = ApprovalOutcome.model_validate(answer)
    if outcome.approval_id != pending.get("approval_id"):  # an older waiting call's outcome: kept for its turn
        early[outcome.approval_id] = outcome.model_dump(mode="json")
        return Command(goto="approval", update={"early": early})
    early.pop(outcome.approval_id, None)
    ctx = runtime.context
    tool_calls: list[dict[str, Any]] = []
    # consumed: the call ran already (e.g. a process died before this thread heard back); the identical re-send
    # returns its stored result, so the conversation converges.
    if outcome.status in ("approved", "consumed"):
        approved = outcome.arguments if outcome.edits and outcome.arguments is not None else pending["arguments"]
        arguments = {**approved, APPROVAL_ARG: pending["approval_id"]}
        result = await ctx.bridge.call(pending["name"], arguments)
        if outcome.edits and not result.is_error:  # the requester sees what the approver changed
            result.text = f"Approved with edits by {outcome.resolved_by or 'the approver'} ({_edited(outcome)}). " + (
                result.text or ""
            )
        if result.approval is not None:  # the guard never asks twice for one approved call; refuse to loop
            result.text = f"{REJECTED_PREFIX} the approved call still asked for another approval; it did not run."
            result.is_error, result.decision, result.result_status = True, "error", "error"
        index = len(waiting["tool_calls"])
        tool_calls.append(record_of(result.server, result.tool, arguments, result.decision, result.result_status,
                                    index))  # fmt: skip
        ctx.emit(ChatEvent(kind="tool", agent=pending.get("agent"), data=tool_calls[-1]))
        block = result.to_result_block(pending["tool_use_id"])
    else:
        block = ToolResultBlock(tool_use_id=pending["tool_use_id"], content=_refusal(pending, outcome), is_error=True)
        index = pending["call_index"]
        tool_calls.append({**waiting["tool_calls"][index], "result_status": "rejected", "index": index})
    approval_id = pending["approval_id"]
    resolved = [{**a, "status": outcome.status} for a in waiting["approvals"] if a["approval_id"] == approval_id]
    changes = {"results": [block.model_dump()], "tool_calls": tool_calls, "approvals": resolved}
    if current:
        return Command(goto="tools", update={**changes, "pending": None, "early": early})
    # The waiting turn comes back on top: its fields replace the finished newer turn's (lists merged by hand).
    restored = {k: (Overwrite(v) if k in TURN_LISTS else v) for k, v in waiting.items()}
    restored["results"] = Overwrite([*waiting["results"], *changes["results"]])
    restored["tool_calls"] = Overwrite(merge_tool_calls(waiting["tool_calls"], tool_calls))
    restored["approvals"] = Overwrite(merge_approvals(waiting["approvals"], resolved))
    return Command(goto="tools", update={**restored, "pending": None, "suspended": below, "early": early})


def _answer_meanwhile(
    state: TurnState, text: str, stack: list[dict[str, Any]], pending: dict[str, Any], current: bool
) -> Command[Literal["supervisor"]]:
    """A new message while a call waits: the waiting turn goes on the stack and the message starts a turn. The
    history learns of the wait once (when the waiting turn is first set aside), so every model sees it."""
    update: dict[str, Any] = {**fresh_turn(text, state["user_id"], state["tenant_id"]), "suspended": stack}
    if current:
        done = [a["answer"] for a in state.get("answers") or []]
        said = "\n\n".join([*done, approval_notice(pending)])
        update["history"] = [{"role": "user", "content": state["request"]}, {"role": "assistant", "content": said}]
    return Command(goto="supervisor", update=update)


def _edited(outcome: ApprovalOutcome) -> str:
    return "; ".join(f"{str(e.get('path', '')).removeprefix('arguments.')}: {e.get('before')} -> {e.get('after')}"
                     for e in outcome.edits or [])  # fmt: skip


def _refusal(pending: dict[str, Any], outcome: ApprovalOutcome) -> str:
    call = f"{pending['server']}.{pending['tool']} (approval {outcome.approval_id})"
    if outcome.status == "expired":
        return f"{REJECTED_PREFIX} {call} expired before anyone approved it; it did not run. Do not re-send it."
    who = f" by {outcome.resolved_by}" if outcome.resolved_by else ""
    why = f": {outcome.note}" if outcome.note else " (no reason given)"
    return f"{REJECTED_PREFIX} {call} was rejected{who}{why}. It did not run; do not re-send it."
