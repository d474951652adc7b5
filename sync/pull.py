"""Polling fallback (``mcc sync pull``): read what changed in the tenant's linked projects since a time and apply
it like webhook events (same authority, versions and conflicts), for systems or periods without webhooks.
Workfront is asked by ``lastUpdateDate`` (REST) or searched in full (sandbox); each linked Asana project is read
(its dates and status) and its task lists are filtered by ``modified_at``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from spine.audit import AuditLog
from spine.db import utcnow
from spine.models import WorkItem
from spine.models.governance import AuditEntry
from spine.repositories import SpineStore
from sync.apply_spine import Applier, linked_campaign_status, linked_project_ids
from sync.changes import ExternalChange
from sync.field_rules import Outcome
from sync.map_asana import change_from_project, change_from_task
from sync.map_workfront import change_from_state, polled_at
from sync.rollup import roll_up

TASK_FIELDS = ["ID", "name", "description", "status", "percentComplete", "plannedStartDate",
               "plannedCompletionDate", "assignedToID", "parentID", "projectID"]  # fmt: skip
PROJECT_FIELDS = ["ID", "name", "status", "plannedStartDate", "plannedCompletionDate"]
CHUNK = 50
FIRST_PULL_WINDOW = dt.timedelta(days=1)  # a system never pulled before: the last day
PULL_OVERLAP = dt.timedelta(minutes=5)  # re-read a little before the mark: clocks differ, and re-applying is a no-op


@dataclass
class PullReport:
    system: str
    since: str
    read: int = 0
    outcome: dict[str, Any] = field(default_factory=dict)


def _projects(sessions: sessionmaker[Session], tenant_id: str, system: str) -> list[str]:
    with sessions() as s:
        return linked_project_ids(SpineStore(s, tenant_id), system)


async def read_workfront(backend: Any, projects: list[str], since: dt.datetime) -> list[ExternalChange]:
    """Changed projects and tasks of the linked projects (REST: ``lastUpdateDate >= since``)."""
    now = utcnow()
    changes: list[ExternalChange] = []
    rest = hasattr(backend, "iter_all")
    stamp = since.strftime("%Y-%m-%dT%H:%M:%S")
    for i in range(0, len(projects), CHUNK):
        chunk = projects[i : i + CHUNK]
        for code, key, fields in (("PROJ", "ID", PROJECT_FIELDS), ("TASK", "projectID", TASK_FIELDS)):
            rows: list[dict[str, Any]] = []
            if rest:
                filters = [*((key, p) for p in chunk), (f"{key}_Mod", "in"), ("lastUpdateDate", stamp),
                           ("lastUpdateDate_Mod", "gte")]  # fmt: skip
                async for page in backend.iter_all(code, filters, [*fields, "lastUpdateDate"]):
                    rows += page
            else:
                for pid in chunk:
                    first: int | None = 0
                    while first is not None:
                        page = await backend.search(code, {key: pid}, fields=fields, limit=2000, first=first)
                        rows += [dict(r) for r in page.items]
                        first = page.next_first
            for row in rows:
                change = change_from_state(code, row, polled_at(row, now))
                if change is not None:
                    changes.append(change)
    return changes


async def read_asana(backend: Any, projects: list[str], since: dt.datetime, status_of: Any,
                     campaign_status_of: Any = None) -> list[ExternalChange]:  # fmt: skip
    """The linked projects (their dates and status) and their tasks modified at or after ``since``."""
    now = utcnow()
    changes = []
    for pid in projects:
        project = await backend.get_project(pid)
        if project.modified_at is None or project.modified_at >= since:
            current = campaign_status_of(pid) if campaign_status_of is not None else None
            changes.append(change_from_project(project, now, current))
        offset = None
        while True:
            page = await backend.list_project_tasks(pid, limit=100, offset=offset)
            for listed in page.data:
                if listed.modified_at is not None and listed.modified_at < since:
                    continue
                task = await backend.get_task(listed.gid)  # the list is compact; the task has every field
                changes.append(change_from_task(task, status_of(task.gid), now))
            if page.next_page is None:
                break
            offset = page.next_page.offset
    return changes


def apply_changes(sessions: sessionmaker[Session], audit: AuditLog, tenant_id: str, system: str,
                  changes: list[ExternalChange], since: dt.datetime,
                  until: dt.datetime | None = None) -> PullReport:  # fmt: skip
    """Apply polled changes in one transaction with one audit row; ``until`` (when reading began) is recorded in
    it as the system's high-water mark."""
    outcome = Outcome()
    with sessions() as session, session.begin():
        store = SpineStore(session, tenant_id)
        applier = Applier(store, None, outcome)
        for change in changes:
            applier.apply(change)
        if outcome.campaigns:
            roll_up(store, outcome.campaigns)
        summary = outcome.as_json()
        audit.append_in(session, tenant_id=tenant_id, actor="sync:pull", server="sync", tool=f"pull.{system}",
                        decision="executed", detail={"since": since.isoformat(), "read": len(changes),
                                                     **({"until": until.isoformat()} if until else {}),
                                                     **{k: len(v) for k, v in summary.items()}})  # fmt: skip
    return PullReport(system, since.isoformat(), len(changes), summary)


def asana_status_lookup(sessions: sessionmaker[Session], tenant_id: str) -> Any:
    """gid -> the spine status of its work item (None when new), for Asana's completed/open mapping."""

    def status_of(gid: str) -> str | None:
        with sessions() as s:
            return s.scalar(select(WorkItem.status).where(WorkItem.tenant_id == tenant_id,
                                                          WorkItem.source_system == "asana",
                                                          WorkItem.external_id == gid))  # fmt: skip

    return status_of


def campaign_status_lookup(sessions: sessionmaker[Session], tenant_id: str) -> Any:
    """Asana project gid -> the spine status of its campaign, for Asana's project status mapping."""

    def status_of(gid: str) -> str | None:
        with sessions() as s:
            return linked_campaign_status(s, tenant_id, "asana", gid)

    return status_of


async def pull(sessions: sessionmaker[Session], audit: AuditLog, tenant_id: str, system: str, backend: Any,
               since: dt.datetime) -> PullReport:  # fmt: skip
    """Reconcile one system of one tenant from ``since``."""
    started = utcnow()  # what changes after this moment is read by the next pull
    projects = _projects(sessions, tenant_id, system)
    if system == "workfront":
        changes = await read_workfront(backend, projects, since)
    else:
        changes = await read_asana(backend, projects, since, asana_status_lookup(sessions, tenant_id),
                                   campaign_status_lookup(sessions, tenant_id))  # fmt: skip
    return apply_changes(sessions, audit, tenant_id, system, changes, since, until=started)


def last_pulled(sessions: sessionmaker[Session], tenant_id: str, system: str) -> dt.datetime | None:
    """When the last completed pull of this tenant's system began reading (its audit row), or None."""
    with sessions() as s:
        details = s.scalars(
            select(AuditEntry.detail).where(AuditEntry.tenant_id == tenant_id, AuditEntry.server == "sync",
                                            AuditEntry.tool == f"pull.{system}")
            .order_by(AuditEntry.seq.desc()).limit(20)
        )  # fmt: skip
        for detail in details:
            until = detail.get("until") if isinstance(detail, dict) else None
            if until:
                return dt.datetime.fromisoformat(until)
    return None


def default_since(sessions: sessionmaker[Session], tenant_id: str, system: str, now: dt.datetime) -> dt.datetime:
    """Where a pull without --since starts: the last pull's mark less ``PULL_OVERLAP``; the last day when none."""
    mark = last_pulled(sessions, tenant_id, system)
    return now - FIRST_PULL_WINDOW if mark is None else mark - PULL_OVERLAP
