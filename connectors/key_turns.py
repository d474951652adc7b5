"""Calls that share an idempotency key take turns within a process (the REST clients' creates).

Neither Workfront nor Asana checks our keys, so a create first looks for what an earlier call with its key made
and only then creates. Two calls with one key in flight at once (a client's retry after a timeout while the first
call still waits on the API) would both miss and both create; taking turns, the second finds the first's object.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any


class KeyTurns:
    """One asyncio lock per key in flight; a key's lock goes away once no call holds or awaits it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, key: str | None) -> contextlib.AbstractAsyncContextManager[Any]:
        """``async with turns(key):`` around find-then-create; no key, no waiting."""
        if key is None:
            return contextlib.nullcontext()
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock
