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


def interrupt_payload(pending: dict[str, Any]) -> dict[str, Any]:
    """What a waiting thread shows its caller: which call waits, for whom, and why."""
    keys = ("approval_id", "required_group", "server", "tool", "arguments", "reason", "expires_at", "agent")
    return {k: pending.get(k) for k in keys}


async def approval(state: TurnState, runtime: Runtime[GraphContext]) -> Command[Literal["tools"]]:
    """Interrupt until resumed with an ``ApprovalOutcome``; approved -> re-send the identical call with approval_id."""
    pending = state["pending"] or {}
    answer = interrupt(interrupt_payload(pending))
    outcome = ApprovalOutcome.model_validate(answer)
    ctx = runtime.context
    tool_calls: list[dict[str, Any]] = []
    if outcome.status == "approved":
        arguments = {**pending["arguments"], APPROVAL_ARG: pending["approval_id"]}
        result = await ctx.bridge.call(pending["name"], arguments)
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
        if outcome.status != "consumed":
            index = pending["call_index"]
            tool_calls.append({**state["tool_calls"][index], "result_status": "rejected", "index": index})
    approval_id = pending["approval_id"]
    resolved = [{**a, "status": outcome.status} for a in state["approvals"] if a["approval_id"] == approval_id]
    update = {"results": [block.model_dump()], "tool_calls": tool_calls, "approvals": resolved, "pending": None}
    return Command(goto="tools", update=update)


def _refusal(pending: dict[str, Any], outcome: ApprovalOutcome) -> str:
    call = f"{pending['server']}.{pending['tool']} (approval {outcome.approval_id})"
    if outcome.status == "consumed":
        return f"approval {outcome.approval_id} was already used: the approved call ran once. Do not re-send it."
    if outcome.status == "expired":
        return f"{REJECTED_PREFIX} {call} expired before anyone approved it; it did not run. Do not re-send it."
    who = f" by {outcome.resolved_by}" if outcome.resolved_by else ""
    why = f": {outcome.note}" if outcome.note else " (no reason given)"
    return f"{REJECTED_PREFIX} {call} was rejected{who}{why}. It did not run; do not re-send it."
