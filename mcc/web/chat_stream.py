"""One running chat turn as a replayable event log: the graph pushes, any number of SSE listeners follow.

A browser may connect to a turn's stream after some events were produced (or reconnect after a network blip): it
gets every event from the start, then the live ones, and the stream ends when the turn has finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

StreamKind = Literal["route", "agent", "tool", "approval", "token", "reply", "error", "done"]


@dataclass(frozen=True, slots=True)
class StreamItem:
    """One event of a turn, with its offset from the turn's start (seconds), for latency figures."""

    kind: StreamKind
    data: dict[str, Any]
    at: float


@dataclass(slots=True)
class TurnStream:
    """The events of one turn (a new message, or a resume after an approval), owned by one user of one tenant."""

    turn_id: str
    thread_id: str
    tenant_id: str
    user_id: str
    request: str = ""  # the message this turn answers ("" for a resume after an approval)
    started: float = field(default_factory=time.perf_counter)
    items: list[StreamItem] = field(default_factory=list)
    done: bool = False
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, kind: StreamKind, data: dict[str, Any] | None = None) -> None:
        """Append an event and wake every listener (called on the event loop's thread)."""
        if self.done:
            return
        self.items.append(StreamItem(kind, data or {}, time.perf_counter() - self.started))
        if kind == "done":
            self.done = True
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    def owned_by(self, tenant_id: str, user_id: str) -> bool:
        """Only the user who sent the message (in their tenant) may follow its turn."""
        return (self.tenant_id, self.user_id) == (tenant_id, user_id)

    async def follow(self, start: int = 0) -> AsyncIterator[StreamItem]:
        """Every event from ``start`` on, waiting for new ones until the turn is done."""
        index = start
        while True:
            while index < len(self.items):
                yield self.items[index]
                index += 1
            if self.done:
                return
            await self._wake.wait()

    def first(self, kind: StreamKind) -> StreamItem | None:
        """The first event of a kind so far (the benchmark's first token)."""
        return next((i for i in self.items if i.kind == kind), None)
