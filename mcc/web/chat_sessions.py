"""An open agent team per signed-in user: the MCP servers built for them and the ``Assistant`` kept open between
messages, so a message pays for neither (building the four guarded servers costs about a second).

The ``Assistant``'s MCP clients belong to the task that opened them (anyio cancel scopes), so each user's
assistant lives in one task that runs that user's jobs in order and closes itself after ``idle`` seconds without
work. A job is a coroutine function taking the open assistant; its outcome reaches the caller through a future.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("mcc.web.chat")
Job = Callable[[Any], Awaitable[None]]
IDLE_SECONDS = 15 * 60


@dataclass(eq=False)
class UserSession:
    """One user's open assistant and the queue of its jobs (see the module doc)."""

    opener: Callable[[], Any]  # returns an async context manager yielding an open Assistant
    on_close: Callable[[UserSession], None]
    idle: float = IDLE_SECONDS
    queue: asyncio.Queue[tuple[Job, asyncio.Future[None]]] = field(default_factory=asyncio.Queue)
    closed: bool = False
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def start(self) -> UserSession:
        self.task = asyncio.create_task(self._serve(), name="chat-user-session")
        return self

    def submit(self, job: Job) -> asyncio.Future[None]:
        """Queue a job; the returned future ends with it (the job reports its own results)."""
        if self.closed:
            raise RuntimeError("this session has closed; open a new one")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((job, done))
        return done

    async def _serve(self) -> None:
        try:
            async with self.opener() as assistant:
                self.ready.set()
                while True:
                    try:
                        job, done = await asyncio.wait_for(self.queue.get(), self.idle)
                    except TimeoutError:
                        if self.queue.empty():  # nothing arrived meanwhile: close (no await until marked)
                            self._close()
                            break
                        continue
                    await self._run(job, done, assistant)
        except BaseException as exc:  # the assistant failed to open (or the app stops): fail what waits
            self._close()
            self._fail_waiting(exc)
            if not isinstance(exc, Exception):
                raise
            log.exception("a chat session failed")
        finally:
            self._close()
            self.ready.set()

    async def _run(self, job: Job, done: asyncio.Future[None], assistant: Any) -> None:
        try:
            await job(assistant)
        except Exception as exc:  # a job reports to its own listeners; the session serves the next one
            if not done.done():
                done.set_exception(exc)
            return
        if not done.done():
            done.set_result(None)

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self.on_close(self)

    def _fail_waiting(self, exc: BaseException) -> None:
        while not self.queue.empty():
            _job, done = self.queue.get_nowait()
            if not done.done():
                done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("the chat stopped"))

    async def aclose(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
