"""The approval node: wait for a human decision, then run the approved call once or tell the model it was refused.

``interrupt()`` is the node's first statement: LangGraph re-runs the whole node on resume, so nothing with a side
effect may come before it. The node interrupts at most once per run.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel, ConfigDict, Field

from agents.bridge import APPROVAL_ARG
from agents.graph.agents import record_of
from agents.graph.state import ChatEvent, GraphContext, TurnState
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


def interrupt_payload(pending: dict[str, Any]) -> dict[str, Any]:
    """What a waiting thread shows its caller: which call waits, for whom, and why."""
    keys = ("approval_id", "required_group", "server", "tool", "arguments", "reason", "expires_at", "agent")
    return {k: pending.get(k) for k in keys}


async def approval(state: TurnState, runtime: Runtime[GraphContext]) -> Command[Literal["tools"]]:
    """Interrupt until resumed with an ``ApprovalOutcome``; approved or consumed -> re-send the identical call with
    approval_id (a consumed one answers with the stored result of the call that already ran)."""
    pending = state["pending"] or {}
    answer = interrupt(interrupt_payload(pending))
    outcome = ApprovalOutcome.model_validate(answer)
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
        index = len(state["tool_calls"])
        tool_calls.append(record_of(result.server, result.tool, arguments, result.decision, result.result_status,
                                    index))  # fmt: skip
        ctx.emit(ChatEvent(kind="tool", agent=pending.get("agent"), data=tool_calls[-1]))
        block = result.to_result_block(pending["tool_use_id"])
    else:
        block = ToolResultBlock(tool_use_id=pending["tool_use_id"], content=_refusal(pending, outcome), is_error=True)
        index = pending["call_index"]
        tool_calls.append({**state["tool_calls"][index], "result_status": "rejected", "index": index})
    approval_id = pending["approval_id"]
    resolved = [{**a, "status": outcome.status} for a in state["approvals"] if a["approval_id"] == approval_id]
    update = {"results": [block.model_dump()], "tool_calls": tool_calls, "approvals": resolved, "pending": None}
    return Command(goto="tools", update=update)


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
