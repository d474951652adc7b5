"""Graph state and run context.

State is plain JSON (dicts, lists, strings) so every checkpointer can store it and any process can read it back;
messages are ``agents.models.base.Message`` dumps in the Anthropic Messages format. Nodes return only what changed:
the list fields have reducers (append, merge by key, or keep the recent history), and a node that starts a list
afresh sends ``Overwrite``. The run context carries what is not state: the model, the tool bridge, the user, today's
date, the step limit and an event sink.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypedDict

from langgraph.types import Overwrite
from pydantic import BaseModel

from agents.bridge import ToolBridge
from agents.models.base import ChatModel, Message
from agents.protocol import user_meta

READONLY_GROUP = "readonly-users"
HISTORY_TURNS = 10  # text turns (user + assistant) the supervisor sees; older ones are dropped from state


def merge_tool_calls(current: list[dict[str, Any]], update: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reducer of ``tool_calls``: a record whose ``index`` is already in the list replaces it, others are appended."""
    return _merge(current, update, "index")


def merge_approvals(current: list[dict[str, Any]], update: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reducer of ``approvals``: an entry whose ``approval_id`` is already listed replaces it, others are appended."""
    return _merge(current, update, "approval_id")


def recent_history(current: list[dict[str, Any]], update: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reducer of ``history``: the new messages appended, only the last ``HISTORY_TURNS`` turns kept."""
    return [*current, *update][-2 * HISTORY_TURNS :]


def _merge(current: list[dict[str, Any]], update: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    merged = list(current)
    # A record checkpointed before records carried an index (an older version's waiting thread) sits at its position.
    where = {entry.get(key, i): i for i, entry in enumerate(merged)}
    for entry in update:
        if entry[key] in where:
            merged[where[entry[key]]] = entry
        else:
            where[entry[key]] = len(merged)
            merged.append(entry)
    return merged


class TurnState(TypedDict, total=False):
    """One thread's state. ``user_id``/``tenant_id``/``history`` span turns; everything else is the current turn."""

    user_id: str
    tenant_id: str
    history: Annotated[list[dict[str, Any]], recent_history]  # [{"role": "user"|"assistant", "content": str}]
    request: str
    parts: list[dict[str, str]]  # [{"agent", "request"}]
    part: int  # index into parts of the part being worked on
    messages: Annotated[list[dict[str, Any]], operator.add]  # the current agent's conversation (Message dumps)
    steps: int  # model steps the current agent has taken
    results: Annotated[list[dict[str, Any]], operator.add]  # tool_result blocks for the last assistant message
    pending: dict[str, Any] | None  # the call waiting for an approval
    answers: Annotated[list[dict[str, str]], operator.add]  # [{"agent", "request", "answer"}]
    route: Annotated[list[str], operator.add]
    tool_calls: Annotated[list[dict[str, Any]], merge_tool_calls]  # each with its position as "index"
    approvals: Annotated[list[dict[str, Any]], merge_approvals]
    reply: str
    asks: Annotated[list[dict[str, Any]], operator.add]  # this turn's open questions: [{"agent", "request", ...}]
    # Conversation state spanning turns (set by the finish and approval nodes, never parsed from reply text):
    awaiting: list[dict[str, Any]]  # what the last reply asked about (a clarification or a proposal awaiting yes/no)
    focus: dict[str, Any]  # what the thread last dealt with: {"agent", "request", "campaign_id", "approval_id"}
    suspended: list[dict[str, Any]]  # turns waiting on an approval while newer messages are answered (a stack)
    early: dict[str, dict[str, Any]]  # outcomes of suspended turns' approvals that arrived while another waited


TURN_LISTS = ("messages", "results", "answers", "route", "tool_calls", "approvals", "asks")  # emptied per turn
# The fields of a turn in flight: what a turn waiting on an approval keeps while newer messages are answered.
TURN_FIELDS = ("request", "parts", "part", "steps", "pending", "reply", *TURN_LISTS)


def fresh_turn(request: str, user_id: str, tenant_id: str) -> dict[str, Any]:
    """The input of a new turn: the request, the owner, and every per-turn field reset (the lists replaced with
    ``Overwrite``, since their reducers would otherwise append the empty list to the last turn's)."""
    lists = {name: Overwrite([]) for name in TURN_LISTS}
    return {"user_id": user_id, "tenant_id": tenant_id, "request": request, "parts": [], "part": 0, "steps": 0,
            "pending": None, "reply": "", **lists}  # fmt: skip


def conversation_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """What a model may know of the conversation beyond its text: the open question, the focus, and the calls
    that wait on an approval (``CONVERSATION_KEY`` metadata)."""
    waiting = [s["pending"] for s in state.get("suspended") or [] if s.get("pending")]
    if state.get("pending"):
        waiting.append(state["pending"])
    keys = ("approval_id", "required_group", "server", "tool", "reason", "expires_at", "agent")
    return {"awaiting": list(state.get("awaiting") or []), "focus": dict(state.get("focus") or {}),
            "waiting": [{k: p.get(k) for k in keys} for p in waiting]}  # fmt: skip


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
    work_routing: Mapping[str, str] | None = None  # campaign type -> system ("*": others); None: the default rule


def load_messages(raw: list[dict[str, Any]]) -> list[Message]:
    """State dumps back to ``Message`` objects."""
    return [Message.model_validate(m) for m in raw]


def dump_message(message: Message) -> dict[str, Any]:
    """A ``Message`` as a JSON-safe dict for state."""
    return message.model_dump(mode="json", exclude_none=True)
