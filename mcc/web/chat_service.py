"""The web chat's engine: runs turns of the agent graph as background tasks and hands their events to SSE.

One ``ChatService`` per web app: the model is built once (stateless, shared by every user), the checkpointer and
store are opened once, and each turn opens an ``Assistant`` for the signed-in user over in-process MCP servers
built for that user (the guard sees exactly that principal). A turn runs in its own task, so the HTTP request
that sent the message returns at once and the browser follows the turn's events; the graph is async and the
offline model and the servers' database work run in worker threads, so the event loop never blocks.
Turns of one thread never overlap (a per-thread lock): a message and a resume after an approval are serialised.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcc.web.chat_sessions import UserSession
from mcc.web.chat_stream import TurnStream
from mcc.wiring import App

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.store.base import BaseStore

    from agents.assistant import ChatEvent, TurnResult
    from agents.models.base import ChatModel
    from agents.threads import ThreadSummary

log = logging.getLogger("mcc.web.chat")
KEEP_FINISHED = 200  # finished turns kept for late or reconnecting listeners, oldest dropped first


class ChatRefused(Exception):
    """A chat request the service will not run; ``status`` is the HTTP status a route answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class ChatUser:
    """Who chats: the signed-in user of a tenant with their directory groups."""

    user_id: str
    tenant_id: str
    groups: frozenset[str]


@dataclass(slots=True)
class ThreadView:
    """A thread as its page shows it: earlier turns, the current one and where it stands."""

    thread_id: str
    history: list[dict[str, str]]  # [{"role": "user"|"assistant", "content": str}]
    request: str
    reply: str
    waiting: dict[str, Any] | None  # the interrupt payload: approval_id, required_group, server, tool, reason
    tool_calls: list[dict[str, Any]]
    approvals: list[dict[str, Any]]
    route: list[str]
    running: TurnStream | None = None


@dataclass
class ChatService:
    """Runs chat turns for a web app; open with ``await ChatService.start(app)``, close with ``aclose``."""

    app: App
    model: ChatModel
    saver: BaseCheckpointSaver[Any]
    store: BaseStore
    stack: AsyncExitStack
    turns: dict[str, TurnStream] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _sessions: dict[ChatUser, UserSession] = field(default_factory=dict)
    _reader: Any = None
    _warming: asyncio.Task[None] | None = None
    _background: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    async def start(
        cls, app: App, model: ChatModel | None = None, *, warm_up: bool = True, warm_knowledge: bool = False
    ) -> ChatService:
        """Build the model and open the checkpoints and store of ``app``. ``warm_up`` loads the model now in a
        worker thread (else on first use); ``warm_knowledge`` also opens the playbook store in the background (the
        first playbook question takes seconds otherwise)."""
        from agents.checkpoints import open_checkpointer, open_store
        from agents.graph import build_graph
        from mcc.commands.chat import checkpoint_url

        model = model or app.chat_model()
        stack = AsyncExitStack()
        try:
            url = checkpoint_url(app.settings)
            saver = await stack.enter_async_context(open_checkpointer(url))
            store = await stack.enter_async_context(open_store(url))
        except BaseException:
            await stack.aclose()
            raise
        service = cls(app, model, saver, store, stack)
        service._reader = build_graph(saver)  # reads thread state; runs go through each turn's Assistant
        load = getattr(model, "warm_up", None)
        if warm_up and load is not None:  # loading MiniLM takes seconds: started now, in a thread, not in a first turn
            service._warming = asyncio.create_task(asyncio.to_thread(load), name="chat-model-warm-up")
        if warm_knowledge:
            service._background.add(asyncio.create_task(asyncio.to_thread(_warm_knowledge, app)))
        return service

    async def aclose(self) -> None:
        """Close the users' sessions (running turns end), then the checkpointer, store, backends and model."""
        for session in list(self._sessions.values()):
            await session.aclose()
        await asyncio.gather(*self._background, return_exceptions=True)  # threads cannot be cancelled: wait
        await self.stack.aclose()
        await self.app.aclose_backends()
        aclose = getattr(self.model, "aclose", None)
        if aclose is not None:
            await aclose()

    # --- reading ------------------------------------------------------------------------------------------------

    async def threads(self, user: ChatUser) -> list[ThreadSummary]:
        """The user's own threads in their tenant, most recent first."""
        from agents.threads import list_threads

        return await list_threads(self.store, user.tenant_id, user.user_id)

    async def thread(self, user: ChatUser, thread_id: str) -> ThreadView:
        """The thread's page data; another user's or tenant's thread is reported as missing (404)."""
        snapshot = await self._snapshot(user, thread_id)
        values = snapshot.values if snapshot is not None else {}
        if snapshot is None:
            running = self._running(thread_id)
            if running is None or not running.owned_by(user.tenant_id, user.user_id):
                raise ChatRefused(404, "no conversation with that id")
            return ThreadView(thread_id, [], "", "", None, [], [], [], running)
        waiting = snapshot.interrupts[0].value if snapshot.interrupts else None
        reply = str(values.get("reply", ""))
        if waiting is not None:
            from agents.assistant import reply_of

            reply = reply_of(values, waiting)
        return ThreadView(
            thread_id=thread_id,
            history=list(values.get("history", [])),
            request=str(values.get("request", "")),
            reply=reply,
            waiting=dict(waiting) if isinstance(waiting, dict) else None,
            tool_calls=list(values.get("tool_calls", [])),
            approvals=list(values.get("approvals", [])),
            route=list(values.get("route", [])),
            running=self._running(thread_id),
        )

    def turn(self, user: ChatUser, turn_id: str) -> TurnStream:
        """A turn's event stream, only for the user who started it."""
        stream = self.turns.get(turn_id)
        if stream is None or not stream.owned_by(user.tenant_id, user.user_id):
            raise ChatRefused(404, "no such turn")
        return stream

    # --- acting -------------------------------------------------------------------------------------------------

    async def send(self, user: ChatUser, text: str, thread_id: str | None = None) -> TurnStream:
        """Start a turn for ``text`` (a new thread when ``thread_id`` is None); returns its stream at once."""
        text = text.strip()
        if not text:
            raise ChatRefused(422, "message: type a request")
        if len(text) > 8000:
            raise ChatRefused(422, "message: at most 8000 characters; split it into several messages")
        if thread_id is None:
            thread_id = uuid.uuid4().hex
        else:
            snapshot = await self._snapshot(user, thread_id)
            if snapshot is None:
                raise ChatRefused(404, "no conversation with that id")
            # a thread waiting on an approval answers the message too; the waiting call goes on waiting
        if self._running(thread_id) is not None:
            raise ChatRefused(409, "the previous message is still being answered; wait for it")
        return self._launch(user, thread_id, lambda a, sink: a.send(text, thread_id, on_event=sink), text)

    async def resume_if_resolved(self, user: ChatUser, thread_id: str, approval_id: str) -> TurnStream | None:
        """When the thread waits on ``approval_id`` and it has been resolved, resume it (once) as a new turn."""
        snapshot = await self._snapshot(user, thread_id)
        if snapshot is None:
            raise ChatRefused(404, "no conversation with that id")
        waiting = snapshot.interrupts[0].value if snapshot.interrupts else None
        if not isinstance(waiting, dict) or approval_id not in (waiting.get("approval_id"),
                                                                 *(waiting.get("also_waiting") or [])):  # fmt: skip
            return None
        running = self._running(thread_id)
        if running is not None:
            return running
        if (await self.approval(user, approval_id))["status"] == "pending":
            return None
        if self._running(thread_id) is not None:  # started by another request while the approval was read
            return self._running(thread_id)
        return self._launch(user, thread_id, lambda a, sink: a.status(thread_id, on_event=sink))

    async def resume_after_decision(self, tenant_id: str, approval_id: str) -> TurnStream | None:
        """After an approver resolved ``approval_id`` (the inbox): resume the requester's thread waiting on it, in
        this process, serialised with the requester's own page (which then follows the resumed turn live)."""
        from agents.assistant import WAITING_NAMESPACE

        item = await self.store.aget((WAITING_NAMESPACE, tenant_id), approval_id)
        if item is None:
            return None
        thread_id, user_id = str(item.value.get("thread_id", "")), str(item.value.get("user_id", ""))
        groups = await asyncio.to_thread(self.app.groups_of, tenant_id, user_id)
        if groups is None:  # the requester left the directory: nobody may re-send the call
            return None
        return await self.resume_if_resolved(ChatUser(user_id, tenant_id, groups), thread_id, approval_id)

    async def approval(self, user: ChatUser, approval_id: str) -> dict[str, Any]:
        """The approval's record as of now (tenant-scoped: another tenant's id is not found)."""
        from spine.approvals import ApprovalStore
        from spine.errors import SpineError

        def read() -> dict[str, Any]:
            a = ApprovalStore(self.app.sessions).get(user.tenant_id, approval_id)
            return {"approval_id": a.approval_id, "status": a.status, "required_group": a.required_group,
                    "requester": a.requester, "resolved_by": a.resolved_by, "note": a.note, "tool": a.tool,
                    "server": a.server, "expires_at": a.expires_at, "edits": a.edits}  # fmt: skip

        try:
            return await asyncio.to_thread(read)
        except SpineError:
            raise ChatRefused(404, "no approval with that id") from None

    # --- internals ----------------------------------------------------------------------------------------------

    def _running(self, thread_id: str) -> TurnStream | None:
        return next((t for t in self.turns.values() if t.thread_id == thread_id and not t.done), None)

    async def _snapshot(self, user: ChatUser, thread_id: str) -> Any:
        """The thread's checkpointed state, None when it has none; another owner's thread is a 404."""
        snapshot = await self._reader.aget_state({"configurable": {"thread_id": thread_id}})
        if not snapshot.values:
            return None
        owner = (snapshot.values.get("tenant_id"), snapshot.values.get("user_id"))
        if owner != (user.tenant_id, user.user_id):
            raise ChatRefused(404, "no conversation with that id")  # no oracle for other users' thread ids
        return snapshot

    def warm(self, user: ChatUser) -> None:
        """Open the user's agent team now (their chat page was opened), so their first message starts at once."""
        self._session(user)

    def _session(self, user: ChatUser) -> UserSession:
        session = self._sessions.get(user)
        if session is None or session.closed:
            session = UserSession(lambda: self._open_assistant(user), self._forget_session).start()
            self._sessions[user] = session
        return session

    def _forget_session(self, session: UserSession) -> None:
        for key, known in list(self._sessions.items()):
            if known is session:
                del self._sessions[key]

    @asynccontextmanager
    async def _open_assistant(self, user: ChatUser) -> AsyncIterator[Any]:
        from agents.assistant import Assistant, UserInfo
        from policies.model import Principal

        if self._warming is not None:
            await asyncio.shield(self._warming)  # a failed warm-up raises here: the session reports it

        # the web principal's groups (an OIDC sign-in may narrow the directory's): the guard sees exactly them
        principal = Principal(user_id=user.user_id, tenant_id=user.tenant_id, groups=user.groups)
        servers = await asyncio.to_thread(self.app.servers_for, principal)  # about a second of CPU: off the loop
        info = UserInfo(user_id=user.user_id, tenant_id=user.tenant_id, groups=sorted(user.groups))
        async with Assistant(self.model, servers, self.saver, info, store=self.store,
                             work_routing=self.app.work_routing()) as assistant:  # fmt: skip
            yield assistant

    def _launch(self, user: ChatUser, thread_id: str, run: Any, request: str = "") -> TurnStream:
        stream = TurnStream(uuid.uuid4().hex, thread_id, user.tenant_id, user.user_id, request)
        self.turns[stream.turn_id] = stream
        self._forget_old()
        done = self._session(user).submit(lambda assistant: self._run(assistant, stream, run))
        done.add_done_callback(lambda f: _ended(stream, f))
        return stream

    async def _run(self, assistant: Any, stream: TurnStream, run: Any) -> None:
        from agents.assistant import AssistantError

        lock = self._locks.setdefault(stream.thread_id, asyncio.Lock())
        try:
            async with lock:
                result: TurnResult = await run(assistant, lambda event: _forward(stream, event))
            stream.push("reply", {"reply": result.reply, "waiting": result.waiting,
                                  "approvals": [a.model_dump() for a in result.approvals]})  # fmt: skip
        except AssistantError as exc:
            stream.push("error", {"message": exc.message, "fix": exc.fix})
        except asyncio.CancelledError:
            stream.push("error", {"message": "the server stopped while answering", "fix": "send the message again"})
            raise
        except Exception as exc:  # boundary: the browser must hear that the turn failed, not wait forever
            log.exception("chat turn %s of thread %s failed", stream.turn_id, stream.thread_id)
            stream.push("error", {"message": f"the answer failed ({type(exc).__name__})", "fix": "send it again"})
        finally:
            stream.push("done")

    def _forget_old(self) -> None:
        finished = [k for k, t in self.turns.items() if t.done]
        for key in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self.turns[key]


def _warm_knowledge(app: App) -> None:
    """One read-only search (opens the vector store, builds the keyword index) and the answer units embedded, before
    the first question."""
    try:
        app.knowledge.search("campaign playbook", k=1)
        app.knowledge.warm_answers()
    except Exception:  # a warm-up only: the first real question reports any problem itself
        log.warning("could not warm up the playbook store", exc_info=True)


def _ended(stream: TurnStream, done: asyncio.Future[None]) -> None:
    """A turn whose session failed before running it (e.g. the servers could not be built) still ends."""
    if done.cancelled() or done.exception() is not None:
        stream.push("error", {"message": "the assistant could not start", "fix": "send the message again"})
        stream.push("done")


def _forward(stream: TurnStream, event: ChatEvent) -> None:
    """Graph events as stream items: reply text as tokens, the rest as activity (which agent, which tool)."""
    if event.kind == "text":
        if event.final and event.text:
            stream.push("token", {"text": event.text, "agent": event.agent})
    elif event.kind == "reply":
        return  # the turn's result carries the reply (also for a turn that ends waiting)
    else:
        stream.push(event.kind, {"agent": event.agent, **event.data})
