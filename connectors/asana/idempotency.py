"""Where the Asana REST client remembers its idempotency keys.

Asana's API has no idempotency keys (and no client-settable external id for personal access tokens), so the
client records key -> (call fingerprint, created object) itself, right after Asana answered the create:
- ``InMemoryIdempotency``: this process only, newest 10,000 keys (tests, one-off scripts);
- ``SpineIdempotency``: one ``asana.request_completed`` row in the tenant's spine event log, so a retry from
  another process, replica or after a restart returns the first object instead of creating a second one.

``CreateOnce`` runs a create under its key; calls with one key take turns within a process (``KeyTurns``), so a
retry sent while the first call still waits on Asana gets the first call's object instead of a second one. It
reads and writes the memory in a worker thread, so a slow spine never blocks the event loop.

What stays open: a crash between Asana's answer and the row's commit, or two first calls with one key racing in
two processes, can still create twice; only an id Asana itself checks could close that.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.errors import InvalidArgument
from connectors.asana.models import check_idempotency_key, fingerprint
from connectors.key_turns import KeyTurns
from spine.models import EventLog
from spine.repositories import open_store

log = logging.getLogger(__name__)

LEDGER_AGGREGATE = "asana_request"
LEDGER_EVENT = "asana.request_completed"
_NS = uuid.UUID("0b6f3c52-4d1e-4f0a-9a7e-6c2d8e915b34")
M = TypeVar("M", bound=BaseModel)


class IdempotencyMemory(Protocol):
    """key -> (fingerprint of the call, the created object as JSON) for creates that Asana completed."""

    def get(self, key: str) -> tuple[str, dict[str, Any]] | None: ...

    def put(self, key: str, fingerprint: str, created: dict[str, Any]) -> None: ...


class InMemoryIdempotency:
    """This process's memory of its newest ``max_keys`` keys."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._keys: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()
        self._max = max_keys
        self._lock = threading.Lock()  # CreateOnce calls it from worker threads

    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        with self._lock:
            return self._keys.get(key)

    def put(self, key: str, fingerprint: str, created: dict[str, Any]) -> None:
        with self._lock:
            self._keys[key] = (fingerprint, created)
            while len(self._keys) > self._max:
                self._keys.popitem(last=False)


def ledger_id(key: str) -> str:
    """The event-log aggregate id of one key: stable, 36 characters."""
    return str(uuid.uuid5(_NS, key))


class SpineIdempotency:
    """Keys recorded in the tenant's spine event log; this process also keeps them in memory.

    A failed spine write is logged, not raised: Asana already created the object, and the in-memory copy still
    covers a retry in this process. A failed read raises (fail closed: never create without knowing).
    """

    def __init__(self, sessions: sessionmaker[Session], tenant_id: str, actor: str = "asana-client") -> None:
        self._sessions = sessions
        self._tenant = tenant_id
        self._actor = actor
        self._local = InMemoryIdempotency()

    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        if (hit := self._local.get(key)) is not None:
            return hit
        with self._sessions() as session:
            payload = session.scalar(
                select(EventLog.payload)
                .where(EventLog.tenant_id == self._tenant, EventLog.aggregate_type == LEDGER_AGGREGATE,
                       EventLog.aggregate_id == ledger_id(key), EventLog.event_type == LEDGER_EVENT)
                .order_by(EventLog.seq)
                .limit(1)
            )  # fmt: skip
        if payload is None:
            return None
        hit = (str(payload["fingerprint"]), dict(payload["created"]))
        self._local.put(key, *hit)
        return hit

    def put(self, key: str, fingerprint: str, created: dict[str, Any]) -> None:
        self._local.put(key, fingerprint, created)
        try:
            with open_store(self._sessions, self._tenant) as store:
                store.events.append(
                    LEDGER_EVENT, LEDGER_AGGREGATE, ledger_id(key),
                    {"fingerprint": fingerprint, "created": created}, self._actor,
                )  # fmt: skip
        except Exception:
            log.warning("asana create %s not recorded durably; a retry after a restart may create it again",
                        created.get("gid"), exc_info=True)  # fmt: skip


class CreateOnce:
    """At most one create per idempotency key, remembered in an ``IdempotencyMemory``."""

    def __init__(self, memory: IdempotencyMemory) -> None:
        self.memory = memory
        self._turns = KeyTurns()

    async def run(
        self,
        key: str | None,
        operation: str,
        args: Any,
        create: Callable[[], Awaitable[M]],
        replay: Callable[[dict[str, Any]], Awaitable[M]],
    ) -> M:
        """``create()`` unless an earlier identical call with ``key`` made an object: then ``replay(that object as
        JSON)``. The same key with other arguments raises InvalidArgument naming idempotency_key. No key: create."""
        if key is None:
            return await create()
        check_idempotency_key(key)
        fp = fingerprint(operation, args)
        async with self._turns(key):
            # The memory may be a database (SpineIdempotency): read and write it off the event loop.
            hit = await anyio.to_thread.run_sync(self.memory.get, key)
            if hit is not None:
                if hit[0] != fp:
                    raise InvalidArgument("idempotency_key", f"key {key!r} was already used for a different call")
                return await replay(hit[1])
            made = await create()
            await anyio.to_thread.run_sync(functools.partial(self.memory.put, key, fp, made.model_dump(mode="json")))
            return made
