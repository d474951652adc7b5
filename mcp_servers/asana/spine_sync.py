"""Asana -> campaign spine: how Asana objects map onto canonical ones, and the spine writes that follow each
successful Asana write (SystemRef, WorkItem, EventLog). Also the tenant lookup the guard uses for Asana gids.

Every write tool runs: validate (input model, then the read-only pre-checks here) -> the Asana call -> ONE
spine transaction. When that transaction fails after Asana succeeded, nothing of it stays in the spine and
the caller gets ``ToolFailure(code="sync_pending")``: the identical call again (same idempotency key) gets
the same Asana object back and records it exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.models import Project, Task
from mcp_servers.guard.guard import ResourceTenant
from mcp_servers.guard.tenancy import ResourceTenants
from mcp_servers.guard.toolkit import ToolFailure
from spine.errors import SpineError
from spine.models import EventLog
from spine.repositories import SpineStore, open_store

log = logging.getLogger("mcc.asana.sync")

SYSTEM = "asana"
PROJECT_CREATED = "asana_project.created"
COMMENT_ADDED = "asana_comment.added"
TASK_MOVED = "asana_task.moved"
SPINE_NAME_MAX = 500  # WorkItem.name limit; Asana allows 1024
_DEDUPE_WINDOW = 500  # recent events searched when a retried create must not log twice
CREATE_FIX = (
    "retry the identical call with the same idempotency_key: it returns the same Asana object and records it once"
)
UPDATE_FIX = "retry the identical call: it re-applies the same values in Asana and records them once"


class SpineLink(BaseModel):
    """The canonical ids an Asana object is recorded under in the spine."""

    campaign_id: str | None = Field(default=None, description="Canonical campaign id (UUID).")
    work_item_id: str | None = Field(default=None, description="Canonical work item id (UUID) mirroring the task.")


@dataclass(frozen=True, slots=True)
class TaskTarget:
    """What the spine knows of one Asana task before a write (both None: the task is not mapped)."""

    task_gid: str
    work_item_id: str | None = None
    campaign_id: str | None = None

    @property
    def link(self) -> SpineLink | None:
        return SpineLink(campaign_id=self.campaign_id, work_item_id=self.work_item_id) if self.campaign_id else None


def _fit(name: str) -> str:
    return name if len(name) <= SPINE_NAME_MAX else name[: SPINE_NAME_MAX - 1] + "…"


def mirrored_fields(task: Task) -> dict[str, Any]:
    """The WorkItem fields an Asana task owns: name, notes, dates, assignee (the Asana user gid)."""
    return {
        "name": _fit(task.name),
        "description": task.notes or None,
        "planned_start_date": task.start_on,
        "planned_end_date": task.due_on,
        "assignee_id": task.assignee.gid if task.assignee else None,
    }


def status_change(task: Task, status: str, percent: int) -> dict[str, Any]:
    """completed -> "completed" (100 %); reopening a completed item -> "in_progress"; otherwise unchanged."""
    if task.completed:
        done = task.completed_at.date() if task.completed_at else None
        return {"status": "completed", "percent_complete": 100, "actual_end_date": done}
    if status == "completed":
        return {"status": "in_progress", "percent_complete": 0 if percent == 100 else percent, "actual_end_date": None}
    return {}


class AsanaSpineSync:
    """The spine side of the Asana tools, over one session factory; every method is scoped to `tenant`."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # ------------------------------------------------------------ pre-checks (read-only)

    def check_campaign_unlinked(self, tenant: str, campaign_id: str, key: str | None) -> str | None:
        """None when the campaign exists in `tenant` and has no Asana project; the linked project's gid when an
        earlier call with this same idempotency key linked it (a retry). Else ToolFailure naming campaign_id."""
        with self._read(tenant, "campaign_id") as s:
            s.campaigns.get(campaign_id)
            linked = s.refs.external_id("campaign", campaign_id, SYSTEM)
            if linked is None:
                return None
            if key is not None and _logged(s, PROJECT_CREATED, campaign_id, idempotency_key=key, project_gid=linked):
                return linked
        raise ToolFailure(
            f"campaign {campaign_id} is already linked to Asana project {linked}",
            field="campaign_id",
            code="conflict",
            fix=f"add tasks to project {linked}, or create the project without campaign_id",
        )

    def campaign_of_projects(self, tenant: str, project_gids: Sequence[str], field: str = "projects") -> str | None:
        """The campaign of the first of these projects that is linked to one (None when none is)."""
        if not project_gids:
            return None
        with self._read(tenant, field) as s:
            for gid in project_gids:
                campaign_id = s.refs.canonical_id(SYSTEM, "campaign", gid)
                if campaign_id is not None:
                    return campaign_id
        return None

    def task_target(self, tenant: str, task_gid: str, field: str = "task_gid") -> TaskTarget:
        """The work item and campaign a task is mirrored to, if any."""
        with self._read(tenant, field) as s:
            item_id = s.refs.canonical_id(SYSTEM, "work_item", task_gid)
            if item_id is None:
                return TaskTarget(task_gid)
            return TaskTarget(task_gid, item_id, s.work_items.get(item_id).campaign_id)

    # ------------------------------------------------------------ writes (one transaction each)

    def record_project(self, tenant: str, actor: str, campaign_id: str, project: Project, key: str | None) -> SpineLink:
        """Link the campaign to its new Asana project and log it (a retry finds the link and writes nothing)."""
        with self._write(tenant, "project", project.gid, CREATE_FIX) as s:
            linked = s.refs.external_id("campaign", campaign_id, SYSTEM)
            if linked is None:
                s.refs.link("campaign", campaign_id, SYSTEM, project.gid, actor=actor)
                payload = {"project_gid": project.gid, "name": project.name, "idempotency_key": key}
                s.events.append(PROJECT_CREATED, "campaign", campaign_id, payload, actor)
            elif linked != project.gid:  # another call linked the campaign since the pre-check
                raise ToolFailure(
                    f"campaign {campaign_id} was linked to Asana project {linked} meanwhile; project {project.gid} "
                    "was created in Asana but not linked",
                    field="campaign_id",
                    code="conflict",
                    fix=f"use project {linked}; archive project {project.gid} in Asana",
                )
        return SpineLink(campaign_id=campaign_id)

    def record_task(
        self, tenant: str, actor: str, task: Task, campaign_id: str, parent_item_id: str | None = None
    ) -> SpineLink:
        """Mirror a new task as a WorkItem (with its SystemRef); a retry finds the mapping and writes nothing."""
        with self._write(tenant, "task", task.gid, CREATE_FIX) as s:
            existing = s.refs.canonical_id(SYSTEM, "work_item", task.gid)
            if existing is not None:
                item = s.work_items.get(existing)
                return SpineLink(campaign_id=item.campaign_id, work_item_id=item.id)
            fields = {**mirrored_fields(task), **status_change(task, "not_started", 0)}
            item = s.work_items.create(
                {
                    **fields,
                    "campaign_id": campaign_id,
                    "parent_item_id": parent_item_id,
                    "item_type": "task",
                    "source_system": SYSTEM,
                    "external_id": task.gid,
                    "sync_status": "synced",
                },
                actor=actor,
            )
        return SpineLink(campaign_id=campaign_id, work_item_id=item.id)

    def mirror_task(self, tenant: str, actor: str, target: TaskTarget, task: Task) -> SpineLink | None:
        """Copy the task's Asana-owned fields onto its WorkItem (events only for fields that changed)."""
        if target.work_item_id is None:
            return None
        with self._write(tenant, "task update of", task.gid, UPDATE_FIX) as s:
            item = s.work_items.get(target.work_item_id)
            changes = {**mirrored_fields(task), **status_change(task, item.status, item.percent_complete)}
            s.work_items.update(item.id, changes, actor=actor, source_system=SYSTEM)
        return target.link

    def record_event(
        self,
        tenant: str,
        actor: str,
        event_type: str,
        target: TaskTarget,
        payload: Mapping[str, Any],
        *,
        once_per: str | None = None,
        fix: str = CREATE_FIX,
    ) -> SpineLink | None:
        """Log an event about a task, on its campaign when known (else on the task gid). `once_per` names a
        payload key (e.g. story_gid) whose value is logged at most once, so retries do not log twice."""
        agg_type, agg_id = ("campaign", target.campaign_id) if target.campaign_id else ("asana_task", target.task_gid)
        body = {**payload, "task_gid": target.task_gid, "work_item_id": target.work_item_id,
                "campaign_id": target.campaign_id}  # fmt: skip
        with self._write(tenant, event_type, target.task_gid, fix) as s:
            if once_per is None or not _logged(s, event_type, agg_id, **{once_per: body[once_per]}):
                s.events.append(event_type, agg_type, agg_id, body, actor)
        return target.link

    # ------------------------------------------------------------ plumbing

    @contextmanager
    def _read(self, tenant: str, field: str) -> Iterator[SpineStore]:
        """A read transaction whose spine errors name the tool argument they came from."""
        try:
            with open_store(self._sessions, tenant) as s:
                yield s
        except SpineError as exc:
            raise ToolFailure(exc.message, field=field, fix=exc.fix or None, code=exc.code) from None

    @contextmanager
    def _write(self, tenant: str, what: str, gid: str, fix: str) -> Iterator[SpineStore]:
        """One spine transaction after a successful Asana write; any failure rolls it back whole and becomes
        sync_pending (a ToolFailure raised inside, e.g. a conflict, passes through unchanged)."""
        try:
            with open_store(self._sessions, tenant) as s:
                yield s
        except ToolFailure:
            raise
        except Exception as exc:
            reason = exc.message if isinstance(exc, SpineError) else "database error"
            log.warning("asana %s %s done but not recorded in the spine", what, gid, exc_info=True)
            self._log_error(tenant, what, gid, exc)
            raise ToolFailure(
                f"the Asana {what} {gid} succeeded but the spine could not record it ({reason}); the spine is "
                "unchanged",
                code="sync_pending",
                fix=fix,
            ) from None

    def _log_error(self, tenant: str, what: str, gid: str, exc: Exception) -> None:
        # Own transaction, best effort: the failed one is gone, and the database may still be unwell.
        try:
            with open_store(self._sessions, tenant) as s:
                s.errors.log(
                    f"asana.sync.{what.split()[0]}", f"Asana {what} {gid} not recorded", error_type=type(exc).__name__,
                    details={"gid": gid},
                )  # fmt: skip
        except Exception:
            log.exception("could not record the sync failure of asana %s %s", what, gid)


def _logged(s: SpineStore, event_type: str, aggregate_id: str, **match: Any) -> bool:
    """Whether a recent event of this type on this aggregate carries all of `match` in its payload."""
    rows = s.session.scalars(
        select(EventLog.payload)
        .where(EventLog.tenant_id == s.tenant_id, EventLog.event_type == event_type,
               EventLog.aggregate_id == aggregate_id)
        .order_by(EventLog.seq.desc())
        .limit(_DEDUPE_WINDOW)
    )  # fmt: skip
    return any(all(p.get(k) == v for k, v in match.items()) for p in rows)


# Arguments that hold an Asana gid the spine may have mapped (projects -> campaigns, tasks -> work items).
_GID_ARGS = ("project_gid", "task_gid", "parent_gid", "section_gid", "project", "insert_before", "insert_after")


def named_gids(args: Mapping[str, Any]) -> set[str]:
    """Every Asana gid an argument set names (top-level gid arguments, projects, memberships)."""
    gids = {v for k in _GID_ARGS if isinstance(v := args.get(k), str)}
    gids.update(v for v in args.get("projects") or () if isinstance(v, str))
    for m in args.get("memberships") or ():
        if isinstance(m, Mapping):
            gids.update(v for k in ("project", "section") if isinstance(v := m.get(k), str))
    return gids


def asana_resource_tenant(sessions: sessionmaker[Session]) -> ResourceTenant:
    """The guard hook: the tenant owning any Asana gid (via the spine's SystemRefs) or campaign_id in the
    arguments, None when none is mapped. Gids of several tenants, or a failed lookup, yield a value that is
    no tenant, so the cross-tenant rule denies the call (fail closed)."""
    return ResourceTenants(sessions, SYSTEM, lambda _tool, args: named_gids(args))
