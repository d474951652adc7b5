"""Inbox deliveries on the DBOS ``webhooks`` queue: one durable workflow per inbox row (workflow id
``inbox-<row id>``, so queueing a row twice runs it once), whose single step processes the row. The row's status
is the truth: the step is idempotent (a processed row is never applied again), so DBOS recovery after a crash and
the start-up sweep of rows still ``received`` can both safely queue it again."""

from __future__ import annotations

from typing import Any

from dbos import DBOS, DBOSConfiguredInstance, SetWorkflowID
from sqlalchemy.orm import Session, sessionmaker

from spine.audit import AuditLog
from sync import inbox
from sync.durable import Durable
from sync.process import AsanaReader, process

WORKFLOW_PREFIX = "inbox-"


class StillWaiting(RuntimeError):
    """The delivery failed this time and stays ``received``: DBOS retries the step with backoff."""


@DBOS.dbos_class()
class InboxWorker(DBOSConfiguredInstance):
    """Processes inbox rows for DBOS. Create it (once per process and name) BEFORE launching DBOS, so that
    recovery finds it; ``name`` is recorded with each workflow."""

    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog, asana: AsanaReader | None,
                 name: str = "inbox") -> None:  # fmt: skip
        self.sessions, self.audit, self.asana = sessions, audit, asana
        super().__init__(config_name=name)

    @DBOS.workflow()
    def deliver(self, inbox_id: str) -> str:
        """The durable workflow of one inbox row."""
        return self.process_row(inbox_id)

    @DBOS.step(retries_allowed=True, interval_seconds=1.0, max_attempts=inbox.MAX_ATTEMPTS, backoff_rate=2.0)
    def process_row(self, inbox_id: str) -> str:
        status = process(self.sessions, self.audit, inbox_id, self.asana)
        if status == "received":
            raise StillWaiting(f"delivery {inbox_id} failed; it will be tried again")
        return status

    def enqueue(self, durable: Durable, inbox_id: str) -> Any:
        """Queue one row on the webhooks queue (a second call for the same row is a no-op)."""
        with SetWorkflowID(WORKFLOW_PREFIX + inbox_id):
            return durable.webhooks.enqueue(self.deliver, inbox_id)

    def sweep(self, durable: Durable, limit: int = 10_000) -> int:
        """Queue every row still ``received`` (after a crash, or stored while no worker ran); how many."""
        ids = inbox.pending_ids(self.sessions, limit)
        for inbox_id in ids:
            self.enqueue(durable, inbox_id)
        return len(ids)
