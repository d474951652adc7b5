"""Token usage of a turn: ``UsageMeter`` wraps a ChatModel and sums the usage of every call made through it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from agents.models.base import ChatModel, MessageDone, ModelRequest, ModelResponse, StreamEvent, Usage


class TurnUsage(Usage):
    """Usage summed over the model calls of one turn (input, output, cache write, cache read) and their number."""

    model_calls: int = 0


@dataclass
class UsageMeter:
    """A ChatModel that forwards to ``model`` and adds up what each answer reports; one meter per turn."""

    model: ChatModel
    total: TurnUsage = field(default_factory=TurnUsage)

    @property
    def name(self) -> str:
        return self.model.name

    def _add(self, response: ModelResponse) -> None:
        summed = self.total + response.usage
        self.total = TurnUsage(**summed.model_dump(), model_calls=self.total.model_calls + 1)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """The wrapped model's answer, counted."""
        response = await self.model.complete(request)
        self._add(response)
        return response

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """The wrapped model's events; the final MessageDone is counted."""
        async for event in self.model.stream(request):
            if isinstance(event, MessageDone):
                self._add(event.response)
            yield event
