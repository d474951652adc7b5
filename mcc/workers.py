"""One process's durable workers: DBOS launched with every durable job of the sync engine bound.

Whatever starts DBOS (``mcc serve webhooks``, ``mcc sync worker|push``, ``mcc workflows worker``, a test) binds all
three jobs: the webhook inbox batches, outbound propagation and the campaign-setup workflow. A worker recovers the
unfinished workflows of its executor id and dequeues from every queue, so a process that could run only some of
them would fail the others it picks up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    from sync.durable import launch_durable
    from sync.inbox_worker import InboxWorker
    from sync.outbound import Outbound
    from sync.process import BATCH

    audit = app.audit_log()
    # Built before launch: DBOS recovery finds configured instances by name.
    inbox = InboxWorker(app.sessions, audit, asana_reader(app), batch=inbox_batch or BATCH)
    outbound = Outbound(app.sessions, backend_opener(app), audit=audit)
    with serving(app.setup_services()), launch_durable(config or app.durable_config(), (inbox, outbound)) as durable:
        yield Workers(durable=durable, inbox=inbox, outbound=outbound)
