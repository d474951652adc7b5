"""One process's durable workers: DBOS launched with every durable job of the sync engine bound.

Whatever starts DBOS (``mcc serve webhooks``, ``mcc sync worker|push``, ``mcc workflows worker``, a test) binds all
three jobs: the webhook inbox batches, outbound propagation and the campaign-setup workflow. A worker recovers the
unfinished workflows of its executor id and dequeues from every queue, so a process that could run only some of
them would fail the others it picks up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcc.wiring import App
    from sync.durable import Durable, DurableConfig
    from sync.inbox_worker import InboxWorker
    from sync.outbound import Outbound


@dataclass(frozen=True, slots=True)
class Workers:
    """The launched engine and the bound jobs that callers enqueue work for."""

    durable: Durable
    inbox: InboxWorker
    outbound: Outbound


OUTBOUND_EVERY_SECONDS = 5.0  # how often a running worker plans MCC changes out (``mcc sync push`` does it at once)
log = logging.getLogger("mcc.sync.workers")


@dataclass
class Sweeper:
    """What a long-running worker does between waits: queue new inbox rows at every call, and plan MCC-owned campaign
    changes of every tenant onto the outbound queue every ``outbound_every`` seconds. Errors are logged and retried
    at the next call, never raised: a worker keeps running."""

    app: App
    workers: Workers
    outbound_every: float = OUTBOUND_EVERY_SECONDS
    _next_outbound: float = field(default=0.0, repr=False)

    def __call__(self) -> int:
        queued = 0
        try:
            queued = self.workers.inbox.sweep(self.workers.durable)
        except Exception:
            log.warning("inbox sweep failed; retrying", exc_info=True)
        if time.monotonic() >= self._next_outbound:
            self._next_outbound = time.monotonic() + self.outbound_every
            self.plan_outbound()
        return queued

    def plan_outbound(self) -> list[str]:
        """Enqueue one propagation per (campaign, system) with unsent MCC changes, for every tenant."""
        from spine.repositories.directory import list_tenants

        with self.app.sessions() as session:
            tenants = [t.id for t in list_tenants(session)]
        started: list[str] = []
        for tenant_id in tenants:
            try:
                started += self.workers.outbound.enqueue_pending(self.workers.durable.outbound, tenant_id)
            except Exception:
                log.warning("outbound planning failed for tenant %s; retrying", tenant_id, exc_info=True)
        return started


def backend_opener(app: App) -> Any:
    """(tenant, system) -> a new backend of its own: each durable step runs its own event loop and closes it."""

    def open_backend(tenant_id: str, system: str) -> Any:
        return app.new_workfront_backend(tenant_id) if system == "workfront" else app.new_asana_backend(tenant_id)

    return open_backend


@contextmanager
def run_workers(app: App, config: DurableConfig | None = None, inbox_batch: int | None = None) -> Iterator[Workers]:
    """Launch DBOS (``config``, else the App's) with the inbox, outbound and campaign-setup jobs bound; this process
    is a worker until the block ends. ``inbox_batch``: deliveries per inbox workflow (default: sync.process.BATCH)."""
    from mcc.inbound import asana_reader
    from sync.campaign_setup import serving
    from sync.durable import ensure_not_launched, launch_durable
    from sync.inbox_worker import InboxWorker
    from sync.outbound import Outbound
    from sync.process import BATCH

    ensure_not_launched()  # before the jobs register with DBOS: a second launch is refused, never half-bound
    audit = app.audit_log()
    # Built before launch: DBOS recovery finds configured instances by name.
    inbox = InboxWorker(app.sessions, audit, asana_reader(app), batch=inbox_batch or BATCH)
    outbound = Outbound(app.sessions, backend_opener(app), audit=audit)
    with serving(app.setup_services()), launch_durable(config or app.durable_config(), (inbox, outbound)) as durable:
        yield Workers(durable=durable, inbox=inbox, outbound=outbound)
