"""Process inbox rows: parse each, fetch what Asana's id-only events point at (outside the transaction), then apply
every change with the rows' new statuses, the rollups and an audit row in ONE transaction per batch (each delivery
all or nothing: a delivery that fails sends the batch back to be done one delivery at a time). A crash before the
commit leaves the rows ``received`` (processed again later); after it they are ``processed`` (never again)."""

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
from spine.models import SystemRef, WebhookDelivery, WorkItem
from spine.repositories import SpineStore
from sync import inbox
from sync.apply_spine import Applier, Lookups, linked_campaign_status
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
    unread: bool = False  # not linked to MCC: not read, reported as unknown


def _linked(sessions: sessionmaker[Session], tenant_id: str, gids: set[str]) -> set[str]:
    """Which of ``gids`` the tenant has linked (tasks or projects) in Asana."""
    q = select(SystemRef.external_id).where(SystemRef.tenant_id == tenant_id, SystemRef.system == "asana",
                                            SystemRef.external_id.in_(sorted(gids)))  # fmt: skip
    with sessions() as s:
        return set(s.scalars(q))


async def _fetch_asana(tenant_id: str, body: str, reader: AsanaReader, linked: set[str]) -> list[Fetched]:
    """Read the tasks and projects the events name; a task MCC does not know is read only when it was added to a
    linked project (it may become a work item): other unknown ids cost no API call and are recorded as unknown."""
    delivery = parse_events(body.encode())
    latest: dict[tuple[str, str], tuple[dt.datetime, bool]] = {}
    unknown: set[tuple[str, str]] = set()
    for ev in delivery.events:
        kind = ev.resource.resource_type
        if kind not in ("task", "project"):
            continue
        key = (kind, ev.resource.gid)
        gone = ev.action == "deleted" or (ev.action == "removed" and kind == "task" and ev.parent is None)
        joins_linked = ev.action == "added" and ev.parent is not None and ev.parent.gid in linked
        if ev.resource.gid not in linked and not joins_linked:
            unknown.add(key)
            continue
        prev = latest.get(key)
        if prev is None or ev.created_at >= prev[0]:
            latest[key] = (ev.created_at, gone)
    read: dict[str, Task | Project | None] = {}
    for kind in ("task", "project"):
        gids = [g for (k, g), (_, gone) in latest.items() if k == kind and not gone]
        if gids:
            read.update(await reader.read(tenant_id, kind, gids))
    out = [Fetched(kind, gid, at, None if gone else read.get(gid)) for (kind, gid), (at, gone) in latest.items()]
    now = dt.datetime.now(dt.UTC)
    return out + [Fetched(kind, gid, now, None, unread=True) for kind, gid in sorted(unknown - set(latest))]


def _asana_changes(session: Session, tenant_id: str, fetched: list[Fetched]) -> list[ExternalChange]:
    changes = []
    for f in fetched:
        if f.unread:
            changes.append(ExternalChange("asana", "work_item" if f.kind == "task" else "campaign", f.gid, f.at,
                                          {}, "delete"))  # fmt: skip
            continue
        if f.kind == "project":
            if isinstance(f.value, Project):
                status = linked_campaign_status(session, tenant_id, "asana", f.gid)
                changes.append(change_from_project(f.value, f.at, status))
            continue
        if not isinstance(f.value, Task):
            changes.append(deleted_task(f.gid, f.at))
            continue
        mine = (WorkItem.tenant_id == tenant_id, WorkItem.external_id == f.gid, WorkItem.source_system == "asana")
        status = session.scalar(select(WorkItem.status).where(*mine))
        changes.append(change_from_task(f.value, status, f.at))
    return changes


_ERRORS = (ConnectorError, SpineError, SQLAlchemyError, ValueError, RuntimeError, OSError)
BATCH = 200


@dataclass(frozen=True)
class _Head:
    tenant_id: str
    system: str
    body: str
    received_at: dt.datetime
    status: str


def _heads(sessions: sessionmaker[Session], ids: list[str]) -> dict[str, _Head]:
    cols = (WebhookDelivery.id, WebhookDelivery.tenant_id, WebhookDelivery.system, WebhookDelivery.body,
            WebhookDelivery.received_at, WebhookDelivery.status)  # fmt: skip
    with sessions() as s:
        return {r[0]: _Head(*r[1:]) for r in s.execute(select(*cols).where(WebhookDelivery.id.in_(ids)))}


def _changes(session: Session, head: _Head, fetched: list[Fetched]) -> list[ExternalChange]:
    if head.system == "asana":
        return _asana_changes(session, head.tenant_id, fetched)
    change = change_from_event(parse_event(head.body), head.received_at)
    return [change] if change is not None else []


def _apply_all(session: Session, audit: AuditLog, heads: dict[str, _Head], ids: list[str],
               fetched: dict[str, list[Fetched]], careful: bool) -> dict[str, str]:  # fmt: skip
    """Apply the deliveries ``ids`` in the caller's transaction: each one claimed, applied and closed, then one
    rollup per touched campaign and one audit row per tenant."""
    stores: dict[str, SpineStore] = {}
    touched: dict[str, set[str]] = {}
    tally: dict[str, dict[str, int]] = {}
    finals: dict[str, str] = {}
    closed: dict[str, tuple[str, dict[str, Any] | None]] = {}
    claimed = inbox.claim_many(session, ids)
    changes = {i: _changes(session, heads[i], fetched.get(i, [])) for i in ids if i in claimed}
    lookups = Lookups.prefetch(session, [c for cs in changes.values() for c in cs])
    for inbox_id in ids:
        head = heads[inbox_id]
        if inbox_id not in claimed:
            finals[inbox_id] = "processed"  # another worker finished it meanwhile
            continue
        store = stores.get(head.tenant_id) or stores.setdefault(head.tenant_id, SpineStore(session, head.tenant_id))
        outcome = Outcome()
        applier = Applier(store, inbox_id, outcome, careful=careful, lookups=lookups)
        for change in changes[inbox_id]:
            applier.apply(change)
        useful = outcome.applied or outcome.created or outcome.conflicts or outcome.stale or outcome.ignored_mcc_owned
        finals[inbox_id] = "processed" if useful else "ignored"
        summary = outcome.as_json()
        closed[inbox_id] = (finals[inbox_id], summary)
        touched.setdefault(head.tenant_id, set()).update(outcome.campaigns)
        counts = tally.setdefault(f"{head.tenant_id}\0{head.system}", {"deliveries": 0})
        counts["deliveries"] += 1
        for key, n in _counts(summary).items():
            counts[key] = counts.get(key, 0) + n
        if outcome.unknown:
            log.info("delivery %s: %d unknown id(s) recorded", inbox_id, len(outcome.unknown))
    inbox.finish(session, closed)
    for tenant_id, campaigns in touched.items():
        if campaigns:
            roll_up(stores[tenant_id], campaigns)
    for key, counts in tally.items():
        tenant_id, system = key.split("\0")
        audit.append_in(session, tenant_id=tenant_id, actor="sync:inbound", server="sync", tool=f"webhook.{system}",
                        decision="executed", detail={"first_inbox_id": ids[0], **counts})  # fmt: skip
    return finals


def process_batch(sessions: sessionmaker[Session], audit: AuditLog, ids: list[str],
                  asana: AsanaReader | None = None) -> dict[str, str]:  # fmt: skip
    """Process deliveries in one transaction (each one all or nothing); if any fails, the batch is rolled back
    and each delivery is processed alone, so one bad delivery never holds up the others. Returns each status."""
    heads = _heads(sessions, ids)
    result = {i: heads[i].status if i in heads else "missing" for i in ids}
    todo = [i for i in ids if result[i] == "received"]
    fetched: dict[str, list[Fetched]] = {}
    for inbox_id in [i for i in todo if heads[i].system == "asana"]:
        try:
            if asana is None:
                raise RuntimeError("no Asana reader configured for asana deliveries")
            head = heads[inbox_id]
            events = parse_events(head.body.encode()).events
            gids = {ev.resource.gid for ev in events} | {ev.parent.gid for ev in events if ev.parent is not None}
            linked = _linked(sessions, head.tenant_id, gids)
            fetched[inbox_id] = asyncio.run(_fetch_asana(head.tenant_id, head.body, asana, linked))
        except _ERRORS as exc:
            result[inbox_id] = inbox.record_failure(sessions, inbox_id, f"{type(exc).__name__}: {exc}")
    todo = [i for i in todo if result[i] == "received"]
    if not todo:
        return result
    try:
        with sessions() as session, session.begin():
            result.update(_apply_all(session, audit, heads, todo, fetched, careful=len(todo) == 1))
    except _ERRORS as exc:
        if len(todo) == 1:
            # The row keeps the reason and is tried again until MAX_ATTEMPTS; then it is ``failed``, never dropped.
            result[todo[0]] = inbox.record_failure(sessions, todo[0], f"{type(exc).__name__}: {exc}")
        else:
            for inbox_id in todo:
                result.update(process_batch(sessions, audit, [inbox_id], asana))
    return result


def process(sessions: sessionmaker[Session], audit: AuditLog, inbox_id: str, asana: AsanaReader | None = None) -> str:
    """Process one delivery; returns the row's status afterwards (processed, ignored, received, failed)."""
    return process_batch(sessions, audit, [inbox_id], asana)[inbox_id]


def _counts(summary: dict[str, Any]) -> dict[str, int]:
    return {k: len(v) for k, v in summary.items() if isinstance(v, list)}


def process_pending(sessions: sessionmaker[Session], audit: AuditLog, asana: AsanaReader | None = None,
                    limit: int = 100_000, batch: int = BATCH) -> dict[str, int]:  # fmt: skip
    """Process every row still ``received`` (oldest first), ``batch`` per transaction: the recovery sweep and
    ``mcc sync process``."""
    done: dict[str, int] = {}
    ids = inbox.pending_ids(sessions, limit)
    for i in range(0, len(ids), batch):
        for status in process_batch(sessions, audit, ids[i : i + batch], asana).values():
            done[status] = done.get(status, 0) + 1
    return done
