"""Process one inbox row: parse it, fetch what Asana's id-only events point at (outside the transaction), then
apply every change, the rollups, the row's new status and one audit row in ONE transaction. A crash before the
commit leaves the row ``received`` (processed again later); after it, the row is ``processed`` (never again)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.errors import NotFound
from connectors.asana.models import Project, Task
from connectors.asana.webhooks import parse_events
from connectors.errors import ConnectorError
from connectors.workfront.webhooks import parse_event
from spine.audit import AuditLog
from spine.errors import SpineError
from spine.models import WebhookDelivery, WorkItem
from spine.repositories import SpineStore
from sync import inbox
from sync.apply_spine import Applier
from sync.changes import ExternalChange
from sync.field_rules import Outcome
from sync.map_asana import change_from_project, change_from_task, deleted_task
from sync.map_workfront import change_from_event
from sync.rollup import roll_up

log = logging.getLogger("mcc.sync.inbound")


@dataclass(frozen=True)
class AsanaReader:
    """How the processor reads the Asana resources an event names: ``backend_for(tenant)`` builds a fresh backend
    (closed after the delivery, so no HTTP client outlives its event loop)."""

    backend_for: Callable[[str], Any]

    async def read(self, tenant_id: str, kind: str, gids: list[str]) -> dict[str, Task | Project | None]:
        backend = self.backend_for(tenant_id)
        out: dict[str, Task | Project | None] = {}
        try:
            for gid in gids:
                try:
                    out[gid] = await (backend.get_task(gid) if kind == "task" else backend.get_project(gid))
                except NotFound:
                    out[gid] = None  # deleted since the event: treated as a deletion
        finally:
            await backend.aclose()
        return out


@dataclass(frozen=True)
class Fetched:
    """An Asana resource read before the transaction (``value`` None: deleted)."""

    kind: str  # task | project
    gid: str
    at: dt.datetime
    value: Task | Project | None


async def _fetch_asana(tenant_id: str, body: str, reader: AsanaReader) -> list[Fetched]:
    delivery = parse_events(body.encode())
    latest: dict[tuple[str, str], tuple[dt.datetime, bool]] = {}
    for ev in delivery.events:
        kind = ev.resource.resource_type
        if kind not in ("task", "project"):
            continue
        key = (kind, ev.resource.gid)
        gone = ev.action == "deleted" or (ev.action == "removed" and kind == "task" and ev.parent is None)
        prev = latest.get(key)
        if prev is None or ev.created_at >= prev[0]:
            latest[key] = (ev.created_at, gone)
    read: dict[str, Task | Project | None] = {}
    for kind in ("task", "project"):
        gids = [g for (k, g), (_, gone) in latest.items() if k == kind and not gone]
        if gids:
            read.update(await reader.read(tenant_id, kind, gids))
    return [Fetched(kind, gid, at, None if gone else read.get(gid)) for (kind, gid), (at, gone) in latest.items()]


def _asana_changes(session: Session, fetched: list[Fetched]) -> list[ExternalChange]:
    changes = []
    for f in fetched:
        if f.kind == "project":
            if isinstance(f.value, Project):
                changes.append(change_from_project(f.value, f.at))
            continue
        if not isinstance(f.value, Task):
            changes.append(deleted_task(f.gid, f.at))
            continue
        status = session.scalar(select(WorkItem.status).where(WorkItem.external_id == f.gid,
                                                              WorkItem.source_system == "asana"))  # fmt: skip
        changes.append(change_from_task(f.value, status, f.at))
    return changes


def _read(sessions: sessionmaker[Session], inbox_id: str) -> tuple[str, str, str, dt.datetime, str] | None:
    with sessions() as s:
        row = s.get(WebhookDelivery, inbox_id)
        if row is None:
            return None
        return row.tenant_id, row.system, row.body, row.received_at, row.status


def process(sessions: sessionmaker[Session], audit: AuditLog, inbox_id: str, asana: AsanaReader | None = None) -> str:
    """Process one delivery; returns the row's status afterwards (processed, ignored, received, failed)."""
    head = _read(sessions, inbox_id)
    if head is None:
        return "missing"
    tenant_id, system, body, received_at, status = head
    if status != "received":
        return status  # already done: a redelivered or re-queued row changes nothing
    try:
        fetched: list[Fetched] = []
        if system == "asana":
            if asana is None:
                raise RuntimeError("no Asana reader configured for asana deliveries")
            fetched = asyncio.run(_fetch_asana(tenant_id, body, asana))
        with sessions() as session, session.begin():
            row = inbox.claim(session, inbox_id)
            if row is None:
                return "processed"
            store = SpineStore(session, tenant_id)
            outcome = Outcome()
            if system == "asana":
                changes = _asana_changes(session, fetched)
            else:
                change = change_from_event(parse_event(body), received_at)
                changes = [change] if change is not None else []
            applier = Applier(store, inbox_id, outcome)
            for change in changes:
                applier.apply(change)
            if outcome.campaigns:
                roll_up(store, outcome.campaigns)
            useful = outcome.applied or outcome.created or outcome.conflicts
            final = "processed" if useful or outcome.stale or outcome.ignored_mcc_owned else "ignored"
            summary = outcome.as_json()
            inbox.finish(row, final, summary)
            audit.append_in(session, tenant_id=tenant_id, actor="sync:inbound", server="sync",
                            tool=f"webhook.{system}", decision="executed",
                            detail={"inbox_id": inbox_id, **_counts(summary)})  # fmt: skip
        if outcome.unknown:
            log.info("delivery %s: %d unknown id(s) recorded", inbox_id, len(outcome.unknown))
        return final
    except (ConnectorError, SpineError, SQLAlchemyError, ValueError, RuntimeError, OSError) as exc:
        # The row keeps the reason and is tried again until MAX_ATTEMPTS; then it is ``failed``, never dropped.
        return inbox.record_failure(sessions, inbox_id, f"{type(exc).__name__}: {exc}")


def _counts(summary: dict[str, Any]) -> dict[str, int]:
    return {k: len(v) for k, v in summary.items() if isinstance(v, list)}


def process_pending(sessions: sessionmaker[Session], audit: AuditLog, asana: AsanaReader | None = None,
                    limit: int = 1000) -> dict[str, int]:  # fmt: skip
    """Process every row still ``received`` (oldest first): the recovery sweep and ``mcc sync process``."""
    done: dict[str, int] = {}
    for inbox_id in inbox.pending_ids(sessions, limit):
        status = process(sessions, audit, inbox_id, asana)
        done[status] = done.get(status, 0) + 1
    return done
