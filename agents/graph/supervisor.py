"""The supervisor node: classify the request into 1-4 parts, each for one agent, or answer directly.

The route tool is forced, so the model's direct answer (greeting, help) comes as zero parts and a ``reply``; plain
text (the offline model's way) is the reply too. A route cut off at the output limit is never used: the model is
told and asked again.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import ValidationError

from agents.graph.prompts import step_metadata, supervisor_system
from agents.graph.state import ChatEvent, GraphContext, TurnState, conversation_of, dump_message
from agents.graph.steps import call_model
from agents.models.base import Message, ModelRequest, ToolChoiceTool, ToolResultBlock, ToolUseBlock
from agents.protocol import REFUSAL_NOTE, ROUTE_TOOL, ROUTE_TOOL_NAME, RouteDecision, cut_tool_results, max_tokens_for

ROUTE_ATTEMPTS = 2  # one retry with the validation error, then give up: no endless re-routing
NO_ROUTE_REPLY = (
    "I could not work out which part of Marketing Command Center should handle that. Could you rephrase it "
    "(for example: campaign performance, creating tasks, a messaging strategy, or a playbook question)?"
)


async def supervisor(state: TurnState, runtime: Runtime[GraphContext]) -> Command[Literal["agent", "finish"]]:
    """Route the turn's request; plain text from the model is the reply (no agent needed)."""
    ctx = runtime.context
    messages = [Message(role=m["role"], content=m["content"]) for m in state.get("history", [])]
    messages.append(Message(role="user", content=state["request"]))
    for _ in range(ROUTE_ATTEMPTS):
        request = ModelRequest(
            system=supervisor_system(ctx),
            messages=messages,
            tools=[ROUTE_TOOL],
            tool_choice=ToolChoiceTool(name=ROUTE_TOOL_NAME),
            max_tokens=max_tokens_for("supervisor"),
            metadata=step_metadata(ctx, "supervisor", conversation=conversation_of(state)),
        )
        response = await call_model(ctx, request, agent=None, final=True)
        if response.stop_reason == "refusal":
            return Command(goto="finish", update={"parts": [], "reply": REFUSAL_NOTE})
        use = next((u for u in response.tool_uses if u.name == ROUTE_TOOL_NAME), None)
        if use is not None and response.cut_off:  # a cut route may have lost parts: never act on it
            cut = Message(role="user", content=list(cut_tool_results(response)))
            messages = [*messages, response.to_message(), cut]
            continue
        if use is None:
            text = response.text.strip()
            if text:
                return Command(goto="finish", update={"parts": [], "reply": text, "asks": _asks(response.asks)})
            continue  # nothing usable: ask once more with the same messages
        try:
            decision = RouteDecision.model_validate(use.input)
        except ValidationError as exc:
            messages = [*messages, response.to_message(), _route_error(use, exc)]
            continue
        if decision.direct_reply is not None:
            return Command(goto="finish", update={"parts": [], "reply": decision.direct_reply})
        parts = _dedupe([p.model_dump() for p in decision.parts])
        ctx.emit(ChatEvent(kind="route", data={"parts": parts}))
        first = Message(role="user", content=parts[0]["request"])
        return Command(goto="agent", update={"parts": parts, "messages": [dump_message(first)]})
    return Command(goto="finish", update={"parts": [], "reply": NO_ROUTE_REPLY})


def _asks(asks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The supervisor's own question (which reading is meant) belongs to no agent yet."""
    return [{"agent": None, **a} for a in asks]


def _dedupe(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same (agent, request) twice would only redo the same work."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for p in parts:
        key = (p["agent"], p["request"].strip().lower())
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _route_error(use: ToolUseBlock, exc: ValidationError) -> Message:
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors()[:5])
    text = (
        f"invalid route_request input ({problems}). Fix: send 1-4 parts, each {{agent, request}}, or no parts and "
        "a reply when no agent is needed."
    )
    return Message(role="user", content=[ToolResultBlock(tool_use_id=use.id, content=text, is_error=True)])
