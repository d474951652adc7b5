"""Graph state and run context.

State is plain JSON (dicts, lists, strings) so every checkpointer can store it and any process can read it back;
messages are ``agents.models.base.Message`` dumps in the Anthropic Messages format. The run context carries what
is not state: the model, the tool bridge, the user, today's date, the step limit and an event sink.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from pydantic import BaseModel

from agents.bridge import ToolBridge
from agents.models.base import ChatModel, Message
from agents.protocol import user_meta

READONLY_GROUP = "readonly-users"
HISTORY_TURNS = 10  # text turns (user + assistant) the supervisor sees; older ones are dropped from state


class TurnState(TypedDict, total=False):
    """One thread's state. ``user_id``/``tenant_id``/``history`` span turns; everything else is the current turn."""

    user_id: str
    tenant_id: str
    history: list[dict[str, Any]]  # [{"role": "user"|"assistant", "content": str}]
    request: str
    parts: list[dict[str, str]]  # [{"agent", "request"}]
    part: int  # index into parts of the part being worked on
    messages: list[dict[str, Any]]  # the current agent's conversation (Message dumps)
    steps: int  # model steps the current agent has taken
    results: list[dict[str, Any]]  # tool_result blocks gathered for the last assistant message
    pending: dict[str, Any] | None  # the call waiting for an approval
    answers: list[dict[str, str]]  # [{"agent", "request", "answer"}]
    route: list[str]
    tool_calls: list[dict[str, Any]]
    approvals: list[dict[str, Any]]
    reply: str


def fresh_turn(request: str, user_id: str, tenant_id: str) -> TurnState:
    """The input of a new turn: the request, the owner, and every per-turn field reset."""
    return TurnState(
        user_id=user_id, tenant_id=tenant_id, request=request, parts=[], part=0, messages=[], steps=0, results=[],
        pending=None, answers=[], route=[], tool_calls=[], approvals=[], reply="",
    )  # fmt: skip


EventKind = Literal["route", "agent", "tool", "text", "approval", "reply"]


class ChatEvent(BaseModel):
    """Progress of a turn for a live UI: routing, agent start, each tool call, streamed text, a pending approval.

    ``final`` marks text that belongs to the reply (single-part agent answers, the synthesis) rather than to an
    agent's intermediate work on one part of a multi-part request.
    """

    kind: EventKind
    agent: str | None = None
    text: str = ""
    final: bool = False
    data: dict[str, Any] = {}


EventSink = Callable[[ChatEvent], None]


def _ignore(_event: ChatEvent) -> None:
    return None


@dataclass(frozen=True, slots=True)
class UserContext:
    """Who the conversation is for (as the servers were built for this principal)."""

    user_id: str
    tenant_id: str
    groups: frozenset[str]

    @property
    def read_only(self) -> bool:
        """Read-only users are offered only tools annotated ``read_only_hint``."""
        return READONLY_GROUP in self.groups

    def meta(self) -> dict[str, Any]:
        return user_meta(self.user_id, self.tenant_id, sorted(self.groups))


@dataclass(frozen=True, slots=True)
class GraphContext:
    """Run-scoped dependencies handed to every node (``Runtime.context``); never checkpointed."""

    model: ChatModel
    bridge: ToolBridge
    user: UserContext
    today: dt.date
    thread_id: str
    max_steps: int = 8
    emit: EventSink = field(default=_ignore)
    stream: bool = False  # ask the model for streamed text (a live UI is listening)


def load_messages(raw: list[dict[str, Any]]) -> list[Message]:
    """State dumps back to ``Message`` objects."""
    return [Message.model_validate(m) for m in raw]


def dump_message(message: Message) -> dict[str, Any]:
    """A ``Message`` as a JSON-safe dict for state."""
    return message.model_dump(mode="json", exclude_none=True)
