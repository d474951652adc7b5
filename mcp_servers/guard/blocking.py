"""Blocking work (database calls, local SQLite sandboxes) runs in a worker thread, never on the event loop.

One slow query then stalls only the call that made it, not every other request the server is serving. Each
function passed here opens and closes its own sessions inside the thread (SQLAlchemy sessions are not
thread-safe). Threads come from anyio's default pool (40 at a time); a cancelled caller waits for its thread to
finish, so a write is never left half done.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in a worker thread; its result or exception comes back to the awaiting task."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
