"""The one thread that writes the webhook inbox on SQLite (one writer at a time anyway): requests hand it rows and
wait; it stores every row waiting at that moment in one transaction (group commit) and answers them all at once.
One commit per group instead of one per request, and no pool of request threads fighting over the GIL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from sync import inbox

log = logging.getLogger("mcc.sync.inbox_writer")
MAX_GROUP = 500  # rows per transaction: bounds how long one commit holds SQLite's write lock


@dataclass(slots=True)
class _Item:
    """A row waiting to be stored, and how its caller learns the outcome (an event loop's future, or an event)."""

    row: dict[str, Any]
    future: asyncio.Future[inbox.Stored] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    done: threading.Event | None = None
    stored: inbox.Stored | None = None
    error: BaseException | None = None


@dataclass
class InboxWriter:
    """Stores inbox rows from one thread of its own, started on first use."""

    sessions: sessionmaker[Session]
    _queue: queue.SimpleQueue[_Item] = field(default_factory=queue.SimpleQueue, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _start: threading.Lock = field(default_factory=threading.Lock, repr=False)

    async def store(self, row: dict[str, Any]) -> inbox.Stored:
        """Store ``row`` (from ``inbox.row``) from async code; raises what storing raised."""
        loop = asyncio.get_running_loop()
        item = _Item(row, future=loop.create_future(), loop=loop)
        self._put(item)
        assert item.future is not None
        return await item.future

    def store_blocking(self, row: dict[str, Any]) -> inbox.Stored:
        """Store ``row`` from a thread, waiting for the writer."""
        item = _Item(row, done=threading.Event())
        self._put(item)
        assert item.done is not None
        item.done.wait()
        if item.error is not None:
            raise item.error
        assert item.stored is not None
        return item.stored

    def _put(self, item: _Item) -> None:
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
                    self._thread.start()
        self._queue.put(item)

    def _run(self) -> None:
        while True:
            group = [self._queue.get()]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(group)
            except Exception as exc:  # never let the writer die: every later request would wait forever
                log.exception("inbox writer: a group of %d deliveries failed", len(group))
                for item in group:
                    if item.stored is None:
                        item.error = exc
                self._answer(group)

    def _write(self, group: list[_Item]) -> None:
        try:
            results = inbox.store_many(self.sessions, [item.row for item in group])
        except Exception as exc:
            if len(group) > 1:  # one row must not fail the others: each alone, so only the bad one answers 500
                for item in group:
                    self._write([item])
                return
            log.warning("storing a delivery failed (the sender will retry): %s", exc)
            group[0].error = exc
        else:
            for item, result in zip(group, results, strict=True):
                item.stored = result
        self._answer(group)

    def _answer(self, group: list[_Item]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Item]] = {}
        for item in group:
            if item.done is not None:
                item.done.set()
            elif item.loop is not None:
                by_loop.setdefault(item.loop, []).append(item)
        for loop, items in by_loop.items():  # one wake-up of each event loop per group
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting any more
                loop.call_soon_threadsafe(_settle, items)


def _settle(items: list[_Item]) -> None:
    for item in items:
        if item.future is None or item.future.done():  # the client went away; the row is stored all the same
            continue
        if item.error is not None:
            item.future.set_exception(item.error)
        else:
            item.future.set_result(item.stored)  # type: ignore[arg-type]
