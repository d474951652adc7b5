"""The Asana MCP tools: Asana's semantics (numeric-string gids, `{"data": ...}` envelopes, opaque offsets) over
the tenant's backend, with every write mirrored into the campaign spine (see spine_sync for the ordering)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.backend import AsanaBackend
from connectors.asana.models import ProjectCreate, SubtaskCreate, TaskCreate, TaskUpdate
from mcp_servers.asana.spine_sync import COMMENT_ADDED, TASK_MOVED, UPDATE_FIX, AsanaSpineSync
from mcp_servers.asana.tool_models import (
    AddCommentArgs,
    AddTaskToSectionArgs,
    CreateProjectArgs,
    CreateSubtaskArgs,
    CreateTaskArgs,
    EmptyResult,
    GetUserTasksArgs,
    ListSectionsArgs,
    ProjectGidArgs,
    ProjectResult,
    SearchTasksArgs,
    SectionPage,
    StoryResult,
    TaskGidArgs,
    TaskPage,
    TaskResult,
    UpdateTaskArgs,
)
from mcp_servers.guard.blocking import in_thread
from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ToolDef, ToolFailure, ToolInput
from mcp_servers.people import PeopleMap

BackendFor = Callable[[str], AsanaBackend]


def _check_dates(start_on: dt.date | None, due_on: dt.date | None) -> None:
    if start_on is not None and due_on is not None and start_on > due_on:
        raise ToolFailure(f"start_on {start_on} is after due_on {due_on}", field="start_on",
                          fix="pass a start_on on or before due_on")  # fmt: skip


def asana_tools(backend_for: BackendFor, sessions: sessionmaker[Session]) -> list[ToolDef]:
    """The eleven Asana tools of tasks and projects; `backend_for(tenant_id)` gives the caller's tenant its own
    Asana backend (people_tools adds list_users)."""
    sync = AsanaSpineSync(sessions)

    people = PeopleMap(sessions)

    def ctx(call: CallContext) -> tuple[AsanaBackend, str, str]:
        return backend_for(call.principal.tenant_id), call.principal.tenant_id, call.principal.user_id

    async def assignee_gid(tenant: str, value: str | None) -> str | None:
        # An MCC user id becomes the Asana gid linked to it (a ToolFailure naming the fix when there is none).
        return None if value is None else await in_thread(people.external_id, tenant, "asana", value, "assignee")

    async def create_project(call: CallContext, a: CreateProjectArgs) -> ProjectResult:
        """Create an Asana project (with one default section "Untitled section") and optionally link it to a
        campaign of the spine.

        name: 1-1024 chars; workspace / team: gids (numeric strings, e.g. "1204567890123456"); due_on and
        start_on: ISO dates YYYY-MM-DD, start_on not after due_on. campaign_id: canonical campaign UUID of your
        tenant that has no Asana project yet (checked before anything is created). Side effects: creates the
        project in Asana; with campaign_id, records the campaign -> project mapping and an
        asana_project.created event in the spine. Retrying with the same idempotency_key returns the same
        project. Answer: {"data": project, "spine": {"campaign_id"} or null}.
        """
        backend, tenant, actor = ctx(call)
        _check_dates(a.start_on, a.due_on)
        if a.campaign_id is not None:
            await in_thread(sync.check_campaign_unlinked, tenant, a.campaign_id, call.idempotency_key)
        fields = a.business_arguments(mode="python", exclude={"campaign_id"})
        project = await backend.create_project(ProjectCreate(**fields), idempotency_key=call.idempotency_key)
        link = None
        if a.campaign_id is not None:
            link = await in_thread(sync.record_project, tenant, actor, a.campaign_id, project, call.idempotency_key)
        return ProjectResult(data=project, spine=link)

    async def get_project(call: CallContext, a: ProjectGidArgs) -> ProjectResult:
        """One Asana project by gid (numeric string): name, notes, workspace, team, due_on/start_on (ISO
        dates), archived. Read-only. Answer: {"data": project}."""
        backend, _, _ = ctx(call)
        return ProjectResult(data=await backend.get_project(a.project_gid))

    async def list_sections(call: CallContext, a: ListSectionsArgs) -> SectionPage:
        """The sections of a project (gid: numeric string) in board order. Read-only.

        Paged: limit 1-100 (default 50); when next_page is not null, call again with offset = next_page.offset
        (an opaque token, valid only for the same project). Answer: {"data": [section], "next_page": ...}.
        """
        backend, _, _ = ctx(call)
        page = await backend.list_sections(a.project_gid, limit=a.limit, offset=a.offset)
        return SectionPage(data=page.data, next_page=page.next_page)

    async def search_tasks(call: CallContext, a: SearchTasksArgs) -> TaskPage:
        """Tasks of a workspace matching every filter given, oldest first. Read-only.

        Filters: text (case-insensitive, in name or notes), completed (true/false), assignee (user gid),
        project (project gid); gids are numeric strings. Paged: limit 1-100 (default 50); while next_page is
        not null, call again with the same filters and offset = next_page.offset (opaque; changing a filter
        invalidates it). Answer: {"data": [task], "next_page": {offset, path, uri} or null}.
        """
        backend, _, _ = ctx(call)
        page = await backend.search_tasks(
            workspace=a.workspace, text=a.text, completed=a.completed, assignee=a.assignee, project=a.project,
            limit=a.limit, offset=a.offset,
        )  # fmt: skip
        return TaskPage(data=page.data, next_page=page.next_page)

    async def get_task(call: CallContext, a: TaskGidArgs) -> TaskResult:
        """One Asana task by gid (numeric string): name, notes, assignee, completed, due_on/start_on (ISO
        dates), projects, memberships (project + section), parent, num_subtasks. Read-only."""
        backend, _, _ = ctx(call)
        return TaskResult(data=await backend.get_task(a.task_gid))

    async def create_task(call: CallContext, a: CreateTaskArgs) -> TaskResult:
        """Create an Asana task, optionally in projects (first section) or memberships ({project, section}).

        Gids (workspace, projects, memberships) are numeric strings; assignee is a user gid or an MCC user id of
        your tenant (e.g. "maya.chen", translated to the Asana user linked to it; an unlinked one is refused with
        the fix; list_users shows who is linked); due_on / start_on are ISO dates
        YYYY-MM-DD with start_on not after due_on; name 1-1024 chars. Projects and sections can be chosen only
        here (later moves: add_task_to_section). Side effects: creates the task in Asana; when one of its
        projects is linked to a campaign, the spine gets a work item (source_system "asana", external_id = the
        task gid) and a work_item.created event. Retrying with the same idempotency_key returns the same task.
        Answer: {"data": task, "spine": {"campaign_id", "work_item_id"} or null}.
        """
        backend, tenant, actor = ctx(call)
        _check_dates(a.start_on, a.due_on)
        project_gids = [m.project for m in a.memberships] + list(a.projects)
        campaign_id = await in_thread(sync.campaign_of_projects, tenant, project_gids)
        fields = a.business_arguments(mode="python")
        fields["assignee"] = await assignee_gid(tenant, a.assignee)
        task = await backend.create_task(TaskCreate(**fields), idempotency_key=call.idempotency_key)
        link = await in_thread(sync.record_task, tenant, actor, task, campaign_id) if campaign_id else None
        return TaskResult(data=task, spine=link)

    async def create_subtask(call: CallContext, a: CreateSubtaskArgs) -> TaskResult:
        """Create a subtask under the task parent_gid (numeric string); it has no projects of its own.

        assignee: user gid or linked MCC user id (as in create_task); due_on / start_on: ISO dates, start_on not
        after due_on; name 1-1024 chars. Side
        effects: creates the subtask in Asana; when the parent is mirrored in the spine, a child work item
        (parent_item_id = the parent's work item) and a work_item.created event. Retrying with the same
        idempotency_key returns the same subtask. Answer: {"data": task, "spine": {...} or null}.
        """
        backend, tenant, actor = ctx(call)
        _check_dates(a.start_on, a.due_on)
        parent = await in_thread(sync.task_target, tenant, a.parent_gid, field="parent_gid")
        fields = a.business_arguments(mode="python", exclude={"parent_gid"})
        fields["assignee"] = await assignee_gid(tenant, a.assignee)
        task = await backend.create_subtask(a.parent_gid, SubtaskCreate(**fields), idempotency_key=call.idempotency_key)
        link = None
        if parent.campaign_id is not None:
            link = await in_thread(sync.record_task, tenant, actor, task, parent.campaign_id, parent.work_item_id)
        return TaskResult(data=task, spine=link)

    async def update_task(call: CallContext, a: UpdateTaskArgs) -> TaskResult:
        """Change fields of a task (gid: numeric string); only the fields given change.

        name (1-1024 chars), notes, assignee (user gid or linked MCC user id as in create_task, or null to
        unassign), due_on / start_on (ISO dates;
        the resulting start_on may not follow due_on), completed (true completes, false reopens).
        memberships / projects / parent / workspace are refused: set them at creation, move a task with
        add_task_to_section. Side effects: updates the task in Asana; a mirrored work item gets the same
        name, notes, dates, assignee and status (completed -> "completed", reopened -> "in_progress") with a
        work_item.updated event. Answer: {"data": task, "spine": {...} or null}.
        """
        backend, tenant, actor = ctx(call)
        changes = a.model_dump(include=set(TaskUpdate.model_fields) & a.model_fields_set)
        if not changes:
            raise ToolFailure("no fields to change", fix="give at least one of " + ", ".join(TaskUpdate.model_fields))
        if changes.get("assignee") is not None:
            changes["assignee"] = await assignee_gid(tenant, changes["assignee"])
        target = await in_thread(sync.task_target, tenant, a.task_gid)
        task = await backend.update_task(a.task_gid, TaskUpdate(**changes))
        return TaskResult(data=task, spine=await in_thread(sync.mirror_task, tenant, actor, target, task))

    async def add_comment(call: CallContext, a: AddCommentArgs) -> StoryResult:
        """Add a comment story (1-65535 chars) to the task task_gid (numeric string).

        Emails and phone numbers in text are masked ([REDACTED:email]) before the text reaches Asana; card
        numbers and SSNs are refused. Side effects: the story in Asana and an asana_comment.added event in the
        spine (on the task's campaign when it is mirrored). Retrying with the same idempotency_key returns the
        same story. Answer: {"data": story, "spine": {...} or null}.
        """
        backend, tenant, actor = ctx(call)
        target = await in_thread(sync.task_target, tenant, a.task_gid)
        story = await backend.add_comment(a.task_gid, a.text, idempotency_key=call.idempotency_key)
        payload = {"story_gid": story.gid, "chars": len(story.text)}
        link = await in_thread(sync.record_event, tenant, actor, COMMENT_ADDED, target, payload, once_per="story_gid")
        return StoryResult(data=story, spine=link)

    async def get_user_tasks(call: CallContext, a: GetUserTasksArgs) -> TaskPage:
        """Tasks assigned to the user user_gid (numeric string) in a workspace, oldest first. Read-only.

        completed_since: ISO date-time with offset (e.g. 2026-05-01T00:00:00Z); when given, only open tasks and
        tasks completed since then. Paged like search_tasks: pass next_page.offset back as offset until
        next_page is null. Answer: {"data": [task], "next_page": ...}.
        """
        backend, _, _ = ctx(call)
        page = await backend.get_user_tasks(
            a.user_gid, workspace=a.workspace, completed_since=a.completed_since, limit=a.limit, offset=a.offset
        )
        return TaskPage(data=page.data, next_page=page.next_page)

    async def add_task_to_section(call: CallContext, a: AddTaskToSectionArgs) -> EmptyResult:
        """Move the task task_gid into the section section_gid (both numeric-string gids), adding it to that
        section's project if needed; it goes to the top unless insert_before or insert_after (another task of
        that section; never both) is given. Moving again to the same place changes nothing in Asana.

        Side effects: the task's membership in Asana and an asana_task.moved event in the spine (on the task's
        campaign when it is mirrored). Answer: {"data": {}} as Asana's; read memberships with get_task.
        """
        backend, tenant, actor = ctx(call)
        if a.insert_before is not None and a.insert_after is not None:
            raise ToolFailure("give insert_before or insert_after, not both", field="insert_before",
                              fix="drop one of them")  # fmt: skip
        target = await in_thread(sync.task_target, tenant, a.task_gid)
        await backend.add_task_to_section(
            a.section_gid, a.task_gid, insert_before=a.insert_before, insert_after=a.insert_after
        )
        payload = {"section_gid": a.section_gid, "insert_before": a.insert_before, "insert_after": a.insert_after}
        return EmptyResult(
            spine=await in_thread(sync.record_event, tenant, actor, TASK_MOVED, target, payload, fix=UPDATE_FIX)
        )

    def t(fn: Any, args: type[ToolInput], out: type[BaseModel], read_only: bool, **kw: Any) -> ToolDef:
        # Every Asana tool acts on an external system: open_world.
        return ToolDef(fn.__name__, args, out, fn, read_only=read_only, open_world=True, **kw)

    return [
        t(create_project, CreateProjectArgs, ProjectResult, False, idempotent=True),
        t(get_project, ProjectGidArgs, ProjectResult, True, idempotent=True),
        t(list_sections, ListSectionsArgs, SectionPage, True, idempotent=True),
        t(search_tasks, SearchTasksArgs, TaskPage, True, idempotent=True),
        t(get_task, TaskGidArgs, TaskResult, True, idempotent=True),
        t(create_task, CreateTaskArgs, TaskResult, False, idempotent=True),
        t(create_subtask, CreateSubtaskArgs, TaskResult, False, idempotent=True),
        t(update_task, UpdateTaskArgs, TaskResult, False, destructive=True, idempotent=True),
        t(add_comment, AddCommentArgs, StoryResult, False, idempotent=True),
        t(get_user_tasks, GetUserTasksArgs, TaskPage, True, idempotent=True),
        t(add_task_to_section, AddTaskToSectionArgs, EmptyResult, False),
    ]
