"""One model step, streamed to the event sink when a live UI listens, plain ``complete`` otherwise."""

from __future__ import annotations

from agents.graph.state import ChatEvent, GraphContext
from agents.models.base import MessageDone, ModelRequest, ModelResponse, TextDelta


async def call_model(ctx: GraphContext, request: ModelRequest, *, agent: str | None, final: bool) -> ModelResponse:
    """Ask the model; with ``ctx.stream`` forward text deltas as ``text`` events (``final`` when they are the reply)."""
    if not ctx.stream:
        return await ctx.model.complete(request)
    response: ModelResponse | None = None
    async for event in ctx.model.stream(request):
        if isinstance(event, TextDelta):
            ctx.emit(ChatEvent(kind="text", agent=agent, text=event.text, final=final))
        elif isinstance(event, MessageDone):
            response = event.response
    if response is None:  # the interface promises MessageDone last; a model that breaks it is a bug to surface
        raise RuntimeError(f"model {ctx.model.name!r} ended a stream without MessageDone")
    return response
