"""The finish node: one part's answer is the reply; several parts are synthesised into one reply."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from agents.graph.prompts import step_metadata, synthesiser_system
from agents.graph.state import ChatEvent, GraphContext, TurnState
from agents.graph.steps import call_model
from agents.models.base import Message, ModelRequest
from agents.protocol import CUT_NOTE, max_tokens_for


def answers_text(answers: list[dict[str, str]]) -> str:
    """Each agent's answer under a heading naming the agent and its part of the request."""
    return "\n\n".join(f"## {a['agent']}: {a['request']}\n\n{a['answer']}" for a in answers)


async def finish(state: TurnState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Compose the reply and append the turn to the conversation history."""
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
    ctx.emit(ChatEvent(kind="reply", text=reply, final=True))
    turn = [{"role": "user", "content": state["request"]}, {"role": "assistant", "content": reply}]
    # The agents' conversations are not kept once the reply is composed.
    return {"reply": reply, "history": turn, "messages": Overwrite([])}
