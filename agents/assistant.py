"""The runtime API of the agent team: ``Assistant`` (used by ``mcc chat``/``mcc ask``, evals and the demo).

One ``Assistant`` serves one user: it opens one MCP client per server on entry, runs turns through the
checkpointed supervisor graph, and resumes threads that wait on an approval. Threads persist in the
checkpointer, and which thread waits on which approval in the store beside it, so another process (or a
restarted one) with the same checkpointer and store continues them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore
from langgraph.types import Command, StateSnapshot
from mcp import Client
from pydantic import BaseModel, Field

from agents.bridge import ToolBridge
from agents.graph import (
    ApprovalOutcome,
    ChatEvent,
    EventSink,
    GraphApp,
    GraphContext,
    UserContext,
    approval_notice,
    build_graph,
    fresh_turn,
    recursion_limit,
)
from agents.models.base import ChatModel
from agents.models.usage import TurnUsage, UsageMeter
from agents.protocol import model_tool_name
from agents.threads import remember_thread

__all__ = [
    "INCOMPLETE_REPLY",
    "ApprovalOutcome",
    "ApprovalRecord",
    "Assistant",
    "AssistantError",
    "ChatEvent",
    "ThreadNotFound",
    "ThreadOwnedByOther",
    "ThreadWaiting",
    "ToolCallRecord",
    "TurnResult",
    "UserInfo",
]

INCOMPLETE_REPLY = "The last message did not finish (the model or a tool server failed). Please send it again."
WAITING_NAMESPACE = "approvals"  # store namespace (WAITING_NAMESPACE, tenant): approval id -> {thread_id, user_id}


class UserInfo(BaseModel):
    """The principal the servers were built for."""

    user_id: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    groups: list[str] = Field(default_factory=list)


class ToolCallRecord(BaseModel):
    """One MCP call of a turn and what the guard made of it."""

    server: str
    tool: str
    arguments: dict[str, Any]
    decision: Literal["allow", "deny", "require_approval", "error"]
    result_status: Literal["ok", "error", "approval_required", "rejected"]


class ApprovalRecord(BaseModel):
    """An approval a turn asked for and where it stands."""

    approval_id: str
    status: Literal["pending", "approved", "rejected", "expired", "consumed"]
    required_group: str
    tool: str


class TurnResult(BaseModel):
    """Where a thread stands after a turn (or a resume): ``mcc ask --json`` prints exactly these keys."""

    thread_id: str
    reply: str
    route: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    approvals: list[ApprovalRecord] = Field(default_factory=list)
    waiting: bool = False
    usage: TurnUsage = Field(default_factory=TurnUsage, description="Tokens of this call's model calls (its cost)")


class AssistantError(Exception):
    """A request the assistant cannot serve; ``fix`` says what to do instead."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(f"{message}. Fix: {fix}")
        self.message = message
        self.fix = fix


class ThreadNotFound(AssistantError):
    """No conversation with this thread id."""


class ThreadOwnedByOther(AssistantError):
    """The thread belongs to another user or tenant."""


class ThreadWaiting(AssistantError):
    """The thread waits on an approval (kept for callers of older versions: ``send`` now answers such a thread)."""

    def __init__(self, message: str, fix: str, approval_id: str) -> None:
        super().__init__(message, fix)
        self.approval_id = approval_id


class Assistant:
    """The agent team for one user, as an async context manager (opens and closes the MCP clients)."""

    def __init__(
        self,
        model: ChatModel,
        servers: Mapping[str, Any],
        checkpointer: BaseCheckpointSaver[Any],
        user: UserInfo,
        *,
        store: BaseStore,
        today: dt.date | None = None,
        max_steps: int = 8,
        work_routing: Mapping[str, str] | None = None,
    ) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        self.model = model
        self.servers = dict(servers)
        self.checkpointer = checkpointer
        self.store = store
        self.user = user
        self.today = today
        self.max_steps = max_steps
        self.work_routing = dict(work_routing) if work_routing else None
        self._stack: AsyncExitStack | None = None
        self._bridge: ToolBridge | None = None
        self._graph: GraphApp = build_graph(checkpointer)

    async def __aenter__(self) -> Assistant:
        stack = AsyncExitStack()
        try:
            clients = {name: await stack.enter_async_context(Client(target)) for name, target in self.servers.items()}
            self._bridge = await ToolBridge(clients).load()
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(self, *exc: object) -> None:
        stack, self._stack, self._bridge = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    # --- the API ------------------------------------------------------------------------------------------------

    async def send(self, text: str, thread_id: str | None = None, *, on_event: EventSink | None = None) -> TurnResult:
        """Run one user message to a reply or to an approval interrupt (a new thread when ``thread_id`` is None).

        A thread that waits on an approval answers the message too (what is pending, or the new request) while the
        waiting call keeps waiting: it still runs once, when its approval is resolved."""
        if not text.strip():
            raise AssistantError("the message is empty", "type a request")
        thread_id = thread_id or uuid.uuid4().hex
        snapshot = await self._snapshot(thread_id)
        graph_input: Any = fresh_turn(text, self.user.user_id, self.user.tenant_id)
        if snapshot.values:
            self._check_owner(thread_id, snapshot)
            if _waiting_on(snapshot):
                graph_input = Command(resume={"message": text})
        await remember_thread(self.store, self.user.tenant_id, self.user.user_id, thread_id, text)
        return await self._run(graph_input, thread_id, on_event)

    async def resume(
        self, thread_id: str, decision: ApprovalOutcome | Mapping[str, Any], *, on_event: EventSink | None = None
    ) -> TurnResult:
        """Continue a waiting thread with the approval's outcome: approved runs the identical call once."""
        outcome = decision if isinstance(decision, ApprovalOutcome) else ApprovalOutcome.model_validate(decision)
        snapshot = await self._existing(thread_id)
        waiting_on = _waiting_on(snapshot)
        if not waiting_on:
            raise AssistantError(f"thread {thread_id} is not waiting on an approval", "send a new message instead")
        if outcome.approval_id not in waiting_on:
            raise AssistantError(
                f"thread {thread_id} waits on approval {', '.join(waiting_on)}, not {outcome.approval_id}",
                f"resume it with the outcome of approval {waiting_on[0]}",
            )
        return await self._run(Command(resume=outcome.model_dump(mode="json")), thread_id, on_event)

    async def status(self, thread_id: str, *, on_event: EventSink | None = None) -> TurnResult:
        """Where a thread stands; a thread waiting on an approval that has been resolved is resumed now."""
        snapshot = await self._existing(thread_id)
        result: TurnResult | None = None
        for approval_id in _waiting_on(snapshot):  # the newest first; an older one's outcome is kept for its turn
            if result is not None and approval_id not in _waiting_on(await self._snapshot(thread_id)):
                continue
            outcome = await self._check_approval(approval_id)
            if outcome is not None:
                result = await self.resume(thread_id, outcome, on_event=on_event)
        return result or self._result(thread_id, snapshot)

    async def resume_waiting(self, approval_id: str, *, on_event: EventSink | None = None) -> TurnResult | None:
        """After ``approval_id`` was resolved: resume the thread of this user waiting on it (None if there is none)."""
        item = await self.store.aget(self._waiting_namespace, approval_id)
        if item is None:
            return None
        thread_id, owner = str(item.value.get("thread_id", "")), item.value.get("user_id")
        if owner != self.user.user_id:
            raise ThreadOwnedByOther(
                f"the thread waiting on approval {approval_id} belongs to {owner}",
                f"resume it with an Assistant opened as {owner} (the requester re-sends the approved call)",
            )
        snapshot = await self._snapshot(thread_id)
        if approval_id not in _waiting_on(snapshot):
            await self.store.adelete(self._waiting_namespace, approval_id)  # a thread never waits twice on one id
            return None
        return await self.status(thread_id, on_event=on_event)

    # --- internals ----------------------------------------------------------------------------------------------

    def _config(self, thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": recursion_limit(self.max_steps)}

    def _context(self, thread_id: str, on_event: EventSink | None, model: ChatModel) -> GraphContext:
        if self._bridge is None:
            raise AssistantError("the assistant is not open", "use it as `async with Assistant(...) as assistant`")
        user = UserContext(self.user.user_id, self.user.tenant_id, frozenset(self.user.groups))
        today = self.today or dt.date.today()
        if on_event is None:
            return GraphContext(model, self._bridge, user, today, thread_id, self.max_steps,
                                work_routing=self.work_routing)  # fmt: skip
        return GraphContext(model, self._bridge, user, today, thread_id, self.max_steps, on_event, True,
                            work_routing=self.work_routing)  # fmt: skip

    async def _run(self, graph_input: Any, thread_id: str, on_event: EventSink | None) -> TurnResult:
        meter = UsageMeter(self.model)  # the tokens of this call (a send, or a resume after an approval)
        context = self._context(thread_id, on_event, meter)
        await self._graph.ainvoke(graph_input, self._config(thread_id), context=context, durability="exit")  # type: ignore[arg-type]
        snapshot = await self._snapshot(thread_id)
        for approval_id in _waiting_on(snapshot):
            await self._remember_waiting(approval_id, thread_id)
        return self._result(thread_id, snapshot).model_copy(update={"usage": meter.total})

    async def _snapshot(self, thread_id: str) -> StateSnapshot:
        return await self._graph.aget_state({"configurable": {"thread_id": thread_id}})

    async def _existing(self, thread_id: str) -> StateSnapshot:
        snapshot = await self._snapshot(thread_id)
        if not snapshot.values:
            raise ThreadNotFound(f"no conversation with thread id {thread_id!r}", "check the id or start a new thread")
        self._check_owner(thread_id, snapshot)
        return snapshot

    def _check_owner(self, thread_id: str, snapshot: StateSnapshot) -> None:
        owner = (snapshot.values.get("user_id"), snapshot.values.get("tenant_id"))
        if owner != (self.user.user_id, self.user.tenant_id):
            raise ThreadOwnedByOther(
                f"thread {thread_id} belongs to another user", "start a new thread (each user has their own)"
            )

    def _result(self, thread_id: str, snapshot: StateSnapshot) -> TurnResult:
        values = snapshot.values
        waiting = bool(snapshot.interrupts)
        if waiting:
            reply = reply_of(values, snapshot.interrupts[0].value)
        elif snapshot.next:  # a node failed mid-turn (model or transport error): the turn has no reply
            reply = INCOMPLETE_REPLY
        else:
            reply = str(values.get("reply", ""))
        return TurnResult(
            thread_id=thread_id,
            reply=reply,
            route=list(values.get("route", [])),
            tool_calls=[ToolCallRecord.model_validate(c) for c in values.get("tool_calls", [])],
            approvals=[ApprovalRecord.model_validate(a) for a in values.get("approvals", [])],
            waiting=waiting,
        )

    async def _check_approval(self, approval_id: str) -> ApprovalOutcome | None:
        """The approval's outcome read through the spine server's get_approval tool; None while still pending."""
        if self._bridge is None:
            raise AssistantError("the assistant is not open", "use it as `async with Assistant(...) as assistant`")
        name = model_tool_name("spine", "get_approval")
        if name not in self._bridge.tools:
            return None
        found = await self._bridge.call(name, {"approval_id": approval_id})
        record = found.structured if not found.is_error and isinstance(found.structured, dict) else None
        if record is None:
            return None
        status = record.get("status")
        if status == "pending" and _past(record.get("expires_at")):
            return ApprovalOutcome(approval_id=approval_id, status="expired")
        if status not in ("approved", "rejected", "expired", "consumed"):
            return None
        return ApprovalOutcome.model_validate(record)

    @property
    def _waiting_namespace(self) -> tuple[str, str]:
        return (WAITING_NAMESPACE, self.user.tenant_id)

    async def _remember_waiting(self, approval_id: str, thread_id: str) -> None:
        """Index approval id -> waiting thread in the store, so any process can find the thread to resume."""
        value = {"thread_id": thread_id, "user_id": self.user.user_id}
        await self.store.aput(self._waiting_namespace, approval_id, value, index=False)


def reply_of(values: Mapping[str, Any], pending: Mapping[str, Any]) -> str:
    """The reply of a waiting thread: a message answered while an older call waits has its own reply; a turn that
    ends waiting says what waits (``waiting_reply``)."""
    if values.get("pending") is None and values.get("suspended"):
        return str(values.get("reply", ""))
    return waiting_reply(values, pending)


def waiting_reply(values: Mapping[str, Any], pending: Mapping[str, Any]) -> str:
    """The reply of a turn that waits: what was done so far, which call waits, who must approve, the approval id."""
    done = [f"{a['answer']}" for a in values.get("answers", [])]
    return "\n\n".join([*done, approval_notice(pending)])


def _waiting_on(snapshot: StateSnapshot) -> list[str]:
    """The approvals the thread waits on: the one its interrupt names first, then older ones of the same thread."""
    if not snapshot.interrupts:
        return []
    value = snapshot.interrupts[0].value
    if not isinstance(value, dict) or not value.get("approval_id"):
        return []
    return [str(value["approval_id"]), *(str(a) for a in value.get("also_waiting") or [])]


def _past(expires_at: object) -> bool:
    if not isinstance(expires_at, str):
        return False
    try:
        when = dt.datetime.fromisoformat(expires_at)
    except ValueError:
        return False
    return when.tzinfo is not None and when <= dt.datetime.now(dt.UTC)
