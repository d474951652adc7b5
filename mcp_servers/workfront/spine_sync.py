"""Spine side of the Workfront tools: status-code mapping, pre-checks, and the writes that mirror Workfront.

Order of every write tool (so a failure on either side leaves no half-state):
1. validate everything (input model, then the spine pre-checks here: read-only);
2. the Workfront call (creates carry the call's idempotency key, so a retry returns the same object);
3. one spine transaction (``SpineSync.after_*``). If it fails the tool answers ``sync_pending``: retrying the
   identical call converges (Workfront replays the create or re-applies the same update, the spine upserts).

What is written: a project linked to a campaign (``create_project`` with ``campaign_id``) gets a SystemRef
(campaign -> project) and one WorkItem per task; a task of a linked project is a WorkItem (SystemRef work_item ->
task) whose name, description, dates, percent, assignee and status mirror the task after every change; a linked
project's status becomes the campaign status (source ``workfront``); issues and notes on a linked object become
``workfront.issue_created`` / ``workfront.note_added`` events of the campaign. Objects that belong to no
campaign are not mirrored. Every create also appends one ``workfront.request_completed`` event (aggregate
``workfront_request``, id derived from the idempotency key): the server's own idempotency record, checked before
calling Workfront, because the REST API cannot honour idempotency keys itself (see ``backend.py``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.workfront.mapping import campaign_status_for, work_item_fields, work_item_status_for
from connectors.workfront.models import Issue, Note, Project, Task
from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ToolFailure
from mcp_servers.workfront.tool_models import SpineLink
from spine.enums import CampaignStatus
from spine.errors import SpineError
from spine.models import EventLog
from spine.repositories import SpineStore, open_store
from spine.repositories.mapping import canonical_of

log = logging.getLogger("mcc.workfront")
T = TypeVar("T")
SYSTEM = "workfront"

LEDGER_AGGREGATE = "workfront_request"
LEDGER_EVENT = "workfront.request_completed"
_LEDGER_NS = uuid.UUID("5d0f7c1e-8f43-4d51-9a55-2f7e8c1b6a10")


def ledger_id(tool: str, key: str) -> str:
    """The aggregate id of a create's idempotency record: stable for (tool, key), 36 characters."""
    return str(uuid.uuid5(_LEDGER_NS, f"{tool}\n{key}"))


class SpineSync:
    """Reads and writes of the spine for one Workfront server; every method is tenant-scoped."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # ---------------------------------------------------------------- reads (pre-checks, lookups)
    def campaign_of_project(self, tenant: str, project_id: str) -> str | None:
        """Canonical campaign linked to a Workfront project, or None."""
        with self.sessions() as session:
            return canonical_of(session, tenant, SYSTEM, "campaign", project_id)

    def campaign_of_task(self, tenant: str, task_id: str) -> str | None:
        """Canonical campaign of a task mirrored as a work item, or None."""
        with open_store(self.sessions, tenant) as store:
            item_id = store.refs.canonical_id(SYSTEM, "work_item", task_id)
            return store.work_items.get(item_id).campaign_id if item_id else None

    def check_new_project_link(self, tenant: str, campaign_id: str) -> None:
        """``campaign_id`` must be a campaign of ``tenant`` with no Workfront project yet (ToolFailure otherwise)."""
        try:
            with open_store(self.sessions, tenant) as store:
                store.campaigns.get(campaign_id)
                linked = store.refs.external_id("campaign", campaign_id, SYSTEM)
        except SpineError as exc:
            raise ToolFailure(
                f"campaign_id: no campaign {campaign_id!r} in your tenant ({exc.message})",
                field="campaign_id",
                fix="pass the canonical UUID of one of your campaigns (spine list_campaigns)",
                code="not_found",
            ) from None
        if linked is not None:
            raise ToolFailure(
                f"campaign_id: campaign {campaign_id} already has Workfront project {linked}",
                field="campaign_id",
                fix="work in that project (get_project), or omit campaign_id to create an unlinked project",
                code="conflict",
            )

    def replay(self, tenant: str, tool: str, key: str | None, fingerprint: str) -> dict[str, Any] | None:
        """The record of an earlier completed create with this key, or None; a key reused with other
        arguments is a ToolFailure on ``idempotency_key``."""
        if key is None:
            return None
        with open_store(self.sessions, tenant) as store:
            row = store.session.scalar(
                select(EventLog)
                .where(
                    EventLog.tenant_id == tenant,
                    EventLog.aggregate_type == LEDGER_AGGREGATE,
                    EventLog.aggregate_id == ledger_id(tool, key),
                    EventLog.event_type == LEDGER_EVENT,
                )
                .order_by(EventLog.seq)
                .limit(1)
            )
            payload = dict(row.payload) if row is not None else None
        if payload is not None and payload.get("fingerprint") != fingerprint:
            raise ToolFailure(
                "idempotency_key: already used for a different call",
                field="idempotency_key",
                fix="repeat the original arguments exactly, or use a new idempotency_key",
            )
        return payload

    # ---------------------------------------------------------------- writes (one transaction each)
    def after_create_project(
        self, call: CallContext, key: str | None, fp: str, campaign_id: str | None, project: Project, tasks: list[Task]
    ) -> SpineLink:
        """Link campaign -> project, one WorkItem per template task, events; then the idempotency record."""

        def work(store: SpineStore) -> SpineLink:
            link = SpineLink()
            if campaign_id is not None:
                linked = store.refs.external_id("campaign", campaign_id, SYSTEM)
                if linked not in (None, project.id):  # a concurrent call linked another project first
                    raise SpineError("campaign_id", f"campaign already linked to Workfront project {linked}")
                store.refs.link("campaign", campaign_id, SYSTEM, project.id, actor=call.principal.user_id)
                items = [self._upsert_item(store, campaign_id, t, call.principal.user_id) for t in tasks]
                status = self._mirror_project_status(store, campaign_id, project, call, only_from_draft=True)
                store.events.append(
                    "workfront.project_created", "campaign", campaign_id,
                    {"project_id": project.id, "template_id": project.template_id, "task_ids": [t.id for t in tasks]},
                    call.principal.user_id,
                )  # fmt: skip
                link = SpineLink(campaign_id=campaign_id, work_item_ids=items, canonical_status=status)
            self._remember(store, call, key, fp, "PROJ", project.id, link, task_ids=[t.id for t in tasks])
            return link

        return self._write(call, "PROJ", project.id, work)

    def after_create_task(self, call: CallContext, key: str | None, fp: str, task: Task) -> SpineLink:
        """A task of a linked project becomes a WorkItem (+ SystemRef); then the idempotency record."""

        def work(store: SpineStore) -> SpineLink:
            link = SpineLink()
            campaign_id = store.refs.canonical_id(SYSTEM, "campaign", task.project_id)
            if campaign_id is not None:
                item = self._upsert_item(store, campaign_id, task, call.principal.user_id)
                link = SpineLink(
                    campaign_id=campaign_id, work_item_ids=[item], canonical_status=work_item_status_for(task.status)
                )
            self._remember(store, call, key, fp, "TASK", task.id, link)
            return link

        return self._write(call, "TASK", task.id, work)

    def after_task_change(self, call: CallContext, task: Task) -> SpineLink:
        """Mirror a changed task onto its WorkItem (created if the project is linked but the item is missing)."""

        def work(store: SpineStore) -> SpineLink:
            campaign_id = store.refs.canonical_id(SYSTEM, "campaign", task.project_id)
            if campaign_id is None:
                return SpineLink()
            item = self._upsert_item(store, campaign_id, task, call.principal.user_id)
            return SpineLink(
                campaign_id=campaign_id, work_item_ids=[item], canonical_status=work_item_status_for(task.status)
            )

        return self._write(call, "TASK", task.id, work)

    def after_project_status(self, call: CallContext, project: Project) -> SpineLink:
        """A linked project's status becomes its campaign's status (source ``workfront``)."""

        def work(store: SpineStore) -> SpineLink:
            campaign_id = store.refs.canonical_id(SYSTEM, "campaign", project.id)
            if campaign_id is None:
                return SpineLink()
            status = self._mirror_project_status(store, campaign_id, project, call, only_from_draft=False)
            return SpineLink(campaign_id=campaign_id, canonical_status=status)

        return self._write(call, "PROJ", project.id, work)

    def after_create_issue(self, call: CallContext, key: str | None, fp: str, issue: Issue) -> SpineLink:
        """An issue on a linked project is a ``workfront.issue_created`` event of the campaign."""

        def work(store: SpineStore) -> SpineLink:
            link = SpineLink()
            campaign_id = store.refs.canonical_id(SYSTEM, "campaign", issue.project_id)
            if campaign_id is not None:
                payload = {"issue_id": issue.id, "project_id": issue.project_id, "name": issue.name,
                           "priority": issue.priority}  # fmt: skip
                store.events.append("workfront.issue_created", "campaign", campaign_id, payload,
                                    call.principal.user_id)  # fmt: skip
                link = SpineLink(campaign_id=campaign_id)
            self._remember(store, call, key, fp, "OPTASK", issue.id, link)
            return link

        return self._write(call, "OPTASK", issue.id, work)

    def after_add_note(
        self, call: CallContext, key: str | None, fp: str, note: Note, campaign_id: str | None
    ) -> SpineLink:
        """A note on a linked object is a ``workfront.note_added`` event of the campaign (without its text)."""

        def work(store: SpineStore) -> SpineLink:
            link = SpineLink()
            if campaign_id is not None:
                payload = {"note_id": note.id, "obj_code": note.note_obj_code, "obj_id": note.obj_id,
                           "length": len(note.note_text)}  # fmt: skip
                store.events.append("workfront.note_added", "campaign", campaign_id, payload, call.principal.user_id)
                link = SpineLink(campaign_id=campaign_id)
            self._remember(store, call, key, fp, "NOTE", note.id, link)
            return link

        return self._write(call, "NOTE", note.id, work)

    # ---------------------------------------------------------------- helpers
    def _upsert_item(self, store: SpineStore, campaign_id: str, task: Task, actor: str) -> str:
        item_id = store.refs.canonical_id(SYSTEM, "work_item", task.id)
        if item_id is not None:
            store.work_items.update(item_id, work_item_fields(task), actor=actor, source_system=SYSTEM)
            store.refs.mark_synced(SYSTEM, "work_item", task.id)
            return item_id
        parent = store.refs.canonical_id(SYSTEM, "work_item", task.parent_id) if task.parent_id else None
        duration = (Decimal(task.work_required) / 60).quantize(Decimal("0.01"))
        data = {**work_item_fields(task), "campaign_id": campaign_id, "parent_item_id": parent, "item_type": "task",
                "source_system": SYSTEM, "external_id": task.id, "duration_hours": duration}  # fmt: skip
        data.pop("sync_error")
        return store.work_items.create(data, actor=actor).id

    @staticmethod
    def _mirror_project_status(
        store: SpineStore, campaign_id: str, project: Project, call: CallContext, *, only_from_draft: bool
    ) -> str | None:
        wanted = campaign_status_for(project.status)
        current = str(store.campaigns.get(campaign_id).status)
        if current == wanted or (only_from_draft and current != CampaignStatus.DRAFT):
            return None
        store.campaigns.set_status(campaign_id, wanted, source=SYSTEM, actor=call.principal.user_id)
        return wanted

    @staticmethod
    def _remember(
        store: SpineStore, call: CallContext, key: str | None, fp: str, obj_code: str, obj_id: str, link: SpineLink,
        **extra: Any,
    ) -> None:  # fmt: skip
        if key is None:
            return
        payload = {"tool": call.tool, "fingerprint": fp, "obj_code": obj_code, "obj_id": obj_id,
                   "spine": link.model_dump(mode="json"), **extra}  # fmt: skip
        store.events.append(LEDGER_EVENT, LEDGER_AGGREGATE, ledger_id(call.tool, key), payload, call.principal.user_id)

    def _write(self, call: CallContext, obj_code: str, obj_id: str, work: Callable[[SpineStore], T]) -> T:
        try:
            with open_store(self.sessions, call.principal.tenant_id) as store:
                return work(store)
        except Exception as exc:
            raise self.pending(call, obj_code, obj_id, exc) from None

    def pending(self, call: CallContext, obj_code: str, obj_id: str, exc: BaseException) -> ToolFailure:
        """The ``sync_pending`` failure for a Workfront write the spine could not record (logged for repair)."""
        reason = exc.message if isinstance(exc, SpineError) else type(exc).__name__
        log.warning("workfront %s %s %s written but spine sync failed: %s", call.tool, obj_code, obj_id, reason)
        try:
            with open_store(self.sessions, call.principal.tenant_id) as store:
                store.errors.log(
                    "workfront.spine_sync", f"{call.tool}: {obj_code} {obj_id} not mirrored: {reason}",
                    error_type=type(exc).__name__, details={"tool": call.tool, "obj_code": obj_code, "obj_id": obj_id},
                )  # fmt: skip
        except Exception:  # the error log is best effort: the answer below already tells the caller what to do
            log.exception("could not record the spine sync failure")
        same_key = " with the same idempotency_key" if call.idempotency_key is not None else ""
        return ToolFailure(
            f"Workfront {obj_code} {obj_id} was written but the campaign spine could not be updated ({reason}); "
            "the spine holds nothing of this call",
            code="sync_pending",
            fix=f"retry the identical call{same_key}: the retry converges to one Workfront object and one mapping",
        )
