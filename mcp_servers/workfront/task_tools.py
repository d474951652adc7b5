"""Workfront MCP tools for work inside a project: create_task, update_task, assign_resource, create_issue,
add_note."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from connectors.workfront.backend import WorkfrontBackend
from connectors.workfront.models import NOTE_MAX, WORK_REQUIRED_MAX, Issue, Note, Task
from mcp_servers.guard.blocking import in_thread
from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import CreateInput, MultilineText, ToolDef, ToolFailure, ToolInput
from mcp_servers.people import PeopleMap, WorkfrontPerson
from mcp_servers.workfront.spine_sync import SpineSync
from mcp_servers.workfront.tool_calls import call_fingerprint, fetch_one, wf
from mcp_servers.workfront.tool_models import (
    IssueOut,
    IssueResult,
    NoteOut,
    NoteResult,
    SpineLink,
    TaskOut,
    TaskResult,
    WfDate,
    WfDescription,
    WfId,
    WfName,
    check_after,
)

BackendFor = Callable[[str], WorkfrontBackend]
Minutes = Annotated[int, Field(ge=0, le=WORK_REQUIRED_MAX, description="Planned work in minutes (480 = one day).")]
# update_task's backend reports fields under their Workfront names; the tool's arguments are snake_case.
_CHANGE_NAMES = {
    "changes.name": "name",
    "changes.description": "description",
    "changes.plannedStartDate": "planned_start_date",
    "changes.plannedCompletionDate": "planned_completion_date",
    "changes.percentComplete": "percent_complete",
    "changes.workRequired": "work_required",
}
_CHANGE_FIELDS = tuple(_CHANGE_NAMES.values())


class CreateTaskArgs(CreateInput):
    project_id: WfId = Field(description="Project (PROJ) ID, 32 hex.")
    name: WfName = Field(description="Task name, 1-255 characters.")
    assigned_to_id: WfId | None = Field(None, description="Assignee: a Workfront user (USER) ID.")
    planned_start_date: WfDate | None = Field(None, description="ISO date; default: the project's start.")
    planned_completion_date: WfDate | None = Field(None, description="ISO date, not before planned_start_date.")
    description: WfDescription | None = None
    parent_id: WfId | None = Field(None, description="Parent task ID in the same project.")
    work_required: Minutes = 0

    @field_validator("planned_completion_date")
    @classmethod
    def _end_after_start(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return check_after(v, info, "planned_start_date")


class UpdateTaskArgs(ToolInput):
    task_id: WfId = Field(description="Task (TASK) ID, 32 hex.")
    name: WfName | None = None
    description: WfDescription | None = Field(None, description="New description ('' clears it).")
    planned_start_date: WfDate | None = None
    planned_completion_date: WfDate | None = Field(None, description="ISO date, not before the start date.")
    percent_complete: float | None = Field(None, ge=0, le=100, description="0-100; 100 completes the task.")
    work_required: Minutes | None = None

    @field_validator("planned_completion_date")
    @classmethod
    def _end_after_start(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return check_after(v, info, "planned_start_date")


class AssignArgs(ToolInput):
    task_id: WfId = Field(description="Task (TASK) ID, 32 hex.")
    user_id: WorkfrontPerson = Field(
        description="The new assignee: a Workfront user (USER) ID, 32 hex, or an MCC user id of your tenant "
        "(e.g. 'maya.chen') linked to a Workfront user."
    )


class CreateIssueArgs(CreateInput):
    project_id: WfId = Field(description="Project (PROJ) ID, 32 hex.")
    name: WfName = Field(description="Issue title, 1-255 characters.")
    description: WfDescription | None = None
    priority: int = Field(2, ge=0, le=4, description="0 none, 1 low, 2 normal, 3 high, 4 urgent.")
    assigned_to_id: WfId | None = Field(None, description="Workfront user (USER) ID.")


class AddNoteArgs(CreateInput):
    obj_code: Literal["PROJ", "TASK", "OPTASK"] = Field(description="What the note is on: project, task or issue.")
    obj_id: WfId = Field(description="ID of that project, task or issue, 32 hex.")
    text: MultilineText = Field(min_length=1, max_length=NOTE_MAX, description="Note text, 1-4000 characters.")


def task_tools(backend_for: BackendFor, sync: SpineSync) -> list[ToolDef]:
    """Task-level tools over the caller's tenant's Workfront backend, mirrored into ``sync``'s spine."""
    people = PeopleMap(sync.sessions)

    async def create_task(call: CallContext, a: CreateTaskArgs) -> TaskResult:
        """Create a task (status NEW, 0 %) in a project.

        IDs are Workfront GUIDs (32 lowercase hex): project_id (PROJ), assigned_to_id (USER), parent_id (a
        TASK of the same project). work_required is in minutes. Dates are ISO (YYYY-MM-DD); the completion
        date may not precede the start. When the project is linked to a campaign, the task becomes a spine
        work item (SystemRef work_item -> task ID, work_item.created event). Retrying with the same
        idempotency_key returns the first task (no duplicate).
        """
        tenant = call.principal.tenant_id
        backend = backend_for(tenant)
        fp = call_fingerprint(call, a)
        done = await in_thread(sync.replay, tenant, call.tool, call.idempotency_key, fp)
        if done is not None:
            task = Task.model_validate(await fetch_one(backend, "TASK", done["obj_id"]))
            return TaskResult(task=TaskOut.of(task), spine=SpineLink.model_validate(done["spine"]))
        # Pre-check: the spine answers and the project is ours.
        await in_thread(sync.campaign_of_project, tenant, a.project_id)
        task = await wf(
            backend.create_task(
                a.project_id,
                a.name,
                assigned_to_id=a.assigned_to_id,
                planned_start_date=a.planned_start_date,
                planned_completion_date=a.planned_completion_date,
                description=a.description,
                parent_id=a.parent_id,
                work_required=a.work_required,
                idempotency_key=call.idempotency_key,
            )
        )
        link = await in_thread(sync.after_create_task, call, call.idempotency_key, fp, task)
        return TaskResult(task=TaskOut.of(task), spine=link)

    async def update_task(call: CallContext, a: UpdateTaskArgs) -> TaskResult:
        """Change a task's name, description, planned dates (ISO), percent_complete (0-100) or work_required
        (minutes); give only the fields to change. Workfront rules: percent 100 makes the task CPL (complete),
        any other non-zero percent moves a NEW task to INP. Status and assignee have their own tools
        (update_status, assign_resource). task_id is a 32-hex ID. When the task is mirrored in the spine, its
        work item gets the task's new name, dates, percent, status and assignee (work_item.updated event).
        Sending the same changes again changes nothing more.
        """
        changes = a.model_dump(include=set(_CHANGE_FIELDS), exclude_none=True)
        if not changes:
            raise ToolFailure(
                "no change given", fix=f"pass at least one of: {', '.join(_CHANGE_FIELDS)}", field="arguments"
            )
        tenant = call.principal.tenant_id
        # Pre-check: the spine answers and the task is ours.
        await in_thread(sync.campaign_of_task, tenant, a.task_id)
        task = await wf(backend_for(tenant).update_task(a.task_id, changes), _CHANGE_NAMES)
        return TaskResult(task=TaskOut.of(task), spine=await in_thread(sync.after_task_change, call, task))

    async def assign_resource(call: CallContext, a: AssignArgs) -> TaskResult:
        """Make a person the assignee of a task (task_id: 32 hex), replacing the previous assignee.

        user_id: a Workfront USER ID (32 hex) or an MCC user id of your tenant (e.g. "maya.chen"), which is
        translated to the Workfront user linked to it; an MCC user without a Workfront identity is refused
        with the fix (search_users shows who is linked). A mirrored work item gets the new assignee_id (the
        Workfront user ID). Use get_capacity first to pick someone with available hours. Assigning the same
        user again changes nothing.
        """
        tenant = call.principal.tenant_id
        user_id = await in_thread(people.external_id, tenant, "workfront", a.user_id, "user_id")
        await in_thread(sync.campaign_of_task, tenant, a.task_id)
        task = await wf(backend_for(tenant).assign_resource(a.task_id, user_id))
        return TaskResult(task=TaskOut.of(task), spine=await in_thread(sync.after_task_change, call, task))

    async def create_issue(call: CallContext, a: CreateIssueArgs) -> IssueResult:
        """Report an issue (Workfront OPTASK, status NEW) on a project (project_id: 32 hex), with a priority
        0-4 (2 normal) and an optional assignee (USER ID). When the project is linked to a campaign, the spine
        records a workfront.issue_created event on the campaign. Retrying with the same idempotency_key
        returns the first issue (no duplicate).
        """
        tenant = call.principal.tenant_id
        backend = backend_for(tenant)
        fp = call_fingerprint(call, a)
        done = await in_thread(sync.replay, tenant, call.tool, call.idempotency_key, fp)
        if done is not None:
            issue = Issue.model_validate(await fetch_one(backend, "OPTASK", done["obj_id"]))
            return IssueResult(issue=IssueOut.of(issue), spine=SpineLink.model_validate(done["spine"]))
        await in_thread(sync.campaign_of_project, tenant, a.project_id)
        issue = await wf(
            backend.create_issue(
                a.project_id,
                a.name,
                description=a.description,
                priority=a.priority,
                assigned_to_id=a.assigned_to_id,
                idempotency_key=call.idempotency_key,
            )
        )
        return IssueResult(
            issue=IssueOut.of(issue),
            spine=await in_thread(sync.after_create_issue, call, call.idempotency_key, fp, issue),
        )

    async def add_note(call: CallContext, a: AddNoteArgs) -> NoteResult:
        """Add a note (a Workfront update) to a project, task or issue (obj_code PROJ | TASK | OPTASK, obj_id
        32 hex). Email addresses and phone numbers in the text are replaced by [REDACTED:...] before it is
        sent; card numbers and SSNs are refused. When the object belongs to a linked campaign, the spine
        records a workfront.note_added event (without the text). Retrying with the same idempotency_key
        returns the first note (no duplicate).
        """
        tenant = call.principal.tenant_id
        backend = backend_for(tenant)
        fp = call_fingerprint(call, a)
        done = await in_thread(sync.replay, tenant, call.tool, call.idempotency_key, fp)
        if done is not None:
            note = Note.model_validate(await fetch_one(backend, "NOTE", done["obj_id"]))
            return NoteResult(note=NoteOut.of(note), spine=SpineLink.model_validate(done["spine"]))
        campaign_id = await _campaign_of(backend, sync, tenant, a.obj_code, a.obj_id)
        note = await wf(backend.add_note(a.obj_code, a.obj_id, a.text, idempotency_key=call.idempotency_key))
        link = await in_thread(sync.after_add_note, call, call.idempotency_key, fp, note, campaign_id)
        return NoteResult(note=NoteOut.of(note), spine=link)

    def t(fn: Any, args: type[ToolInput], out: type[Any], **kw: Any) -> ToolDef:
        return ToolDef(fn.__name__, args, out, fn, read_only=False, open_world=True, idempotent=True, **kw)

    return [
        t(create_task, CreateTaskArgs, TaskResult),
        t(update_task, UpdateTaskArgs, TaskResult, destructive=True),
        t(assign_resource, AssignArgs, TaskResult, destructive=True),
        t(create_issue, CreateIssueArgs, IssueResult),
        t(add_note, AddNoteArgs, NoteResult),
    ]


async def _campaign_of(
    backend: WorkfrontBackend, sync: SpineSync, tenant: str, obj_code: str, obj_id: str
) -> str | None:
    """The campaign a note target belongs to (through its project), or None; unknown objects give None and
    the backend's add_note then names obj_id."""
    if obj_code == "PROJ":
        return await in_thread(sync.campaign_of_project, tenant, obj_id)
    if obj_code == "TASK" and (campaign := await in_thread(sync.campaign_of_task, tenant, obj_id)) is not None:
        return campaign
    page = await wf(backend.search(obj_code, {"ID": obj_id}, ["projectID"], 1, 0), {"filters.ID": "obj_id"})
    project_id: Any = page.items[0].get("projectID") if page.items else None
    return await in_thread(sync.campaign_of_project, tenant, project_id) if project_id else None
