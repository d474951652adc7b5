"""Inbox deliveries on the DBOS ``webhooks`` queue. A sweep finds rows still ``received`` and queues them in
batches, one durable workflow per batch (its id is derived from the rows, so queueing the same rows twice runs
them once); the workflow's step processes the batch (each delivery all or nothing). The row's status is the
truth: a processed row is never applied again, so DBOS recovery after a crash, a second worker and the next sweep
can all safely meet the same rows."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS, DBOSConfiguredInstance, SetWorkflowID
from sqlalchemy.orm import Session, sessionmaker

from spine.audit import AuditLog
from sync import inbox
from sync.durable import Durable
from sync.process import BATCH, AsanaReader, process_batch

RECENT_SECONDS = 30.0  # a row queued this recently is not queued again by the sweep


class StillWaiting(RuntimeError):
    """Some deliveries failed this time and stay ``received``: DBOS retries the step with backoff."""


@dataclass
class _Recent:
    until: dict[str, float] = field(default_factory=dict)

    def fresh(self, ids: list[str]) -> list[str]:
        now = time.monotonic()
        self.until = {k: v for k, v in self.until.items() if v > now}
        return [i for i in ids if i not in self.until]

    def mark(self, ids: list[str]) -> None:
        until = time.monotonic() + RECENT_SECONDS
        self.until.update(dict.fromkeys(ids, until))


@DBOS.dbos_class()
class InboxWorker(DBOSConfiguredInstance):
    """Processes inbox rows for DBOS. Create it (once per process and name) BEFORE launching DBOS, so that
    recovery finds it; ``name`` is recorded with each workflow."""

    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog, asana: AsanaReader | None,
                 name: str = "inbox", batch: int = BATCH) -> None:  # fmt: skip
        self.sessions, self.audit, self.asana, self.batch = sessions, audit, asana, max(1, batch)
        self._recent = _Recent()
        super().__init__(config_name=name)

    @DBOS.workflow()
    def deliver(self, inbox_ids: list[str]) -> dict[str, str]:
        """The durable workflow of a batch of inbox rows."""
        return self.process_rows(inbox_ids)

    @DBOS.step(retries_allowed=True, interval_seconds=1.0, max_attempts=inbox.MAX_ATTEMPTS, backoff_rate=2.0)
    def process_rows(self, inbox_ids: list[str]) -> dict[str, str]:
        result = process_batch(self.sessions, self.audit, inbox_ids, self.asana)
        waiting = [i for i, status in result.items() if status == "received"]
        if waiting:
            raise StillWaiting(f"{len(waiting)} deliveries failed this time; they will be tried again")
        return result

    def enqueue(self, durable: Durable, inbox_ids: list[str]) -> Any:
        """Queue rows on the webhooks queue (the same rows again within the minute: a no-op; a later sweep may
        queue rows that are still ``received`` again, e.g. after their workflow gave up while the database was down).
        """
        minute = int(time.time() // 60)
        key = hashlib.sha256(f"{minute}:{','.join(inbox_ids)}".encode()).hexdigest()[:32]
        with SetWorkflowID(f"inbox-{key}"):
            handle = durable.webhooks.enqueue(self.deliver, inbox_ids)
        self._recent.mark(inbox_ids)
        return handle

    def sweep(self, durable: Durable, limit: int = 10_000) -> int:
        """Queue the rows still ``received`` that this worker has not queued lately (after a crash, or stored
        since the last sweep), ``batch`` per workflow; how many rows it queued."""
        ids = self._recent.fresh(inbox.pending_ids(self.sessions, limit))
        for i in range(0, len(ids), self.batch):
            self.enqueue(durable, ids[i : i + self.batch])
        return len(ids)
