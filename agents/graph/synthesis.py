"""The finish node: one part's answer is the reply; several parts are synthesised into one reply."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite

from agents.graph.prompts import step_metadata, synthesiser_system
from agents.graph.state import ChatEvent, GraphContext, TurnState
from agents.graph.steps import call_model
from agents.models.base import Message, ModelRequest
from agents.protocol import CUT_NOTE, max_tokens_for


def answers_text(answers: list[dict[str, str]]) -> str:
    """Each agent's answer under a heading naming the agent and its part of the request."""
    return "\n\n".join(f"## {a['agent']}: {a['request']}\n\n{a['answer']}" for a in answers)


async def finish(state: TurnState, runtime: Runtime[GraphContext]) -> Command[Literal["approval", "__end__"]]:
    """Compose the reply, append the turn to the conversation history and keep the conversation state (what the
    reply asks, what the thread dealt with); a turn answered while an older one waits hands back to that wait."""
    ctx = runtime.context
    answers = state.get("answers", [])
    if not state.get("parts"):
        reply = state.get("reply", "")
    elif len(answers) == 1:
        reply = answers[0]["answer"]
    else:
        request = ModelRequest(
            system=synthesiser_system(ctx),
            messages=[Message(role="user", content=answers_text(answers))],
            tools=[],
            max_tokens=max_tokens_for("synthesiser"),
            metadata=step_metadata(ctx, "synthesiser"),
        )
        response = await call_model(ctx, request, agent=None, final=True)
        reply = response.text.strip() or answers_text(answers)
        if response.cut_off:  # the user must not take a cut reply for the whole answer
            ctx.emit(ChatEvent(kind="text", text=f"\n\n{CUT_NOTE}", final=True))
            reply = f"{reply}\n\n{CUT_NOTE}"
    note = still_waiting(state, reply)
    if note:  # a message answered while an older call waits: the user also hears what still waits
        ctx.emit(ChatEvent(kind="text", text=f"\n\n{note}", final=True))
        reply = f"{reply}\n\n{note}"
    ctx.emit(ChatEvent(kind="reply", text=reply, final=True))
    turn = [{"role": "user", "content": state["request"]}, {"role": "assistant", "content": reply}]
    # The agents' conversations are not kept once the reply is composed.
    update = {"reply": reply, "history": turn, "messages": Overwrite([]), "awaiting": list(state.get("asks") or []),
              "focus": focus_after(state)}  # fmt: skip
    return Command(goto="approval" if state.get("suspended") else END, update=update)


def still_waiting(state: TurnState, reply: str) -> str:
    """What still waits on an approval in this thread (each call the reply does not already name by its id)."""
    lines = []
    for held in state.get("suspended") or []:
        p = held.get("pending") or {}
        if not p.get("approval_id") or p["approval_id"] in reply:
            continue
        expires = f", expires {_when(p['expires_at'])}" if p.get("expires_at") else ""
        lines.append(f"Still waiting: {p.get('server')}.{p.get('tool')} needs approval by a member of "
                     f"{p.get('required_group')} (approval {p['approval_id']}, pending{expires}).")  # fmt: skip
    return "\n".join(lines)


def _when(value: object) -> str:
    try:
        return dt.datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M %Z").strip()
    except ValueError:
        return str(value)


_STATUS_READS = frozenset({"get_approval", "list_approvals"})


def focus_after(state: TurnState) -> dict[str, Any]:
    """What the thread dealt with last: the parts of this turn (unless it only read approvals), the last campaign a
    call named and the last approval asked for, each kept from earlier turns when this one named none."""
    focus = dict(state.get("focus") or {})
    calls = state.get("tool_calls") or []
    if state.get("parts") and not (calls and all(c.get("tool") in _STATUS_READS for c in calls)):
        focus["agent"] = state["parts"][0]["agent"]
        focus["request"] = [p["request"] for p in state["parts"]]
    for c in calls:
        campaign = (c.get("arguments") or {}).get("campaign_id")
        if isinstance(campaign, str) and campaign:
            focus["campaign_id"] = campaign
    for a in state.get("approvals") or []:
        focus["approval_id"] = a["approval_id"]
    return focus
