"""Embedded Asana sandbox: the AsanaBackend protocol over its own SQLite file, with Asana's semantics
(16-digit numeric-string gids, opaque signed offsets, the same errors) and create idempotency keys.

Each call is one short local SQLite transaction, run in a worker thread so it never blocks the event loop.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.errors import InvalidArgument, NotFound
from connectors.asana.models import (
    COMMENT_MAX,
    NAME_MAX,
    Compact,
    Page,
    Project,
    ProjectCreate,
    ProjectUpdate,
    Section,
    Story,
    SubtaskCreate,
    Task,
    TaskCreate,
    TaskUpdate,
    User,
    check_dates,
    check_gid,
    check_idempotency_key,
    check_limit,
    check_text,
    fingerprint,
    parse_input,
    parse_update,
    update_date_blame,
)
from connectors.asana.sandbox_custom_fields import SandboxProjectFields, create_custom_field
from connectors.asana.sandbox_seed import DemoSeed, seed_demo
from connectors.asana.sandbox_store import (
    IdempotencyRow,
    MembershipRow,
    MetaRow,
    ProjectRow,
    SandboxBase,
    SectionRow,
    StoryRow,
    TaskRow,
    TeamRow,
    UserRow,
    WorkspaceRow,
    new_gid,
)
from connectors.asana.sandbox_views import page_rows, project_view, section_view, task_view, users_page
from spine.db import make_engine, make_session_factory, utcnow

P = ParamSpec("P")
R = TypeVar("R")


def _in_thread(method: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """A blocking sandbox method as the coroutine the AsanaBackend protocol asks for, run in a worker thread."""

    @functools.wraps(method)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await anyio.to_thread.run_sync(functools.partial(method, *args, **kwargs))

    return run


class AsanaSandbox:
    """The default Asana backend: a persistent SQLite file under the directory the caller chooses."""

    def __init__(
        self, db_path: str | Path, *, workspace_gid: str | None = None, actor_gid: str | None = None,
        custom_field_gids: Mapping[str, str] | None = None,
    ) -> None:  # fmt: skip
        path = Path(db_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._engine = make_engine(f"sqlite:///{path}")
        SandboxBase.metadata.create_all(self._engine)
        self._sessions: sessionmaker[Session] = make_session_factory(self._engine)
        self._default_workspace = workspace_gid
        self._actor = actor_gid
        self._custom_field_gids = dict(custom_field_gids or {})
        with self._sessions() as s, s.begin():
            row = s.get(MetaRow, "offset_secret")
            if row is None:
                row = MetaRow(key="offset_secret", value=secrets.token_hex(32))
                s.add(row)
            self._secret = bytes.fromhex(row.value)

    # ------------------------------------------------------------ setup

    def seed_demo(self, **kwargs: Any) -> DemoSeed:
        """Create the demo workspace, users, team and the given projects/sections/tasks (see sandbox_seed)."""
        with self._sessions() as s, s.begin():
            return seed_demo(s, **kwargs)

    def create_custom_field(self, workspace_gid: str, name: str, kind: str, **kwargs: Any) -> str:
        """Define a workspace custom field (number, text or enum; see sandbox_custom_fields); its gid."""
        with self._sessions() as s, s.begin():
            return create_custom_field(s, workspace_gid, name, kind, **kwargs)

    def project_fields(self) -> SandboxProjectFields:
        """The project custom fields of this sandbox (MCC's tier and budget; see custom_fields.py)."""
        return SandboxProjectFields(self, self._custom_field_gids)

    async def aclose(self) -> None:
        """Close the database file."""
        self._engine.dispose()

    # ------------------------------------------------------------ projects and sections

    @_in_thread
    def create_project(self, data: ProjectCreate | Mapping[str, Any], *, idempotency_key: str | None = None) -> Project:
        inp = parse_input(ProjectCreate, data)
        check_dates(inp.start_on, inp.due_on)
        with self._sessions() as s, s.begin():
            ws = self._workspace(s, inp.workspace, "workspace")
            if inp.team is not None:
                team = s.get(TeamRow, inp.team)
                if team is None:
                    raise NotFound("team", f"no team {inp.team}")
                if team.workspace_gid != ws:
                    raise InvalidArgument("team", f"team {inp.team} is not in workspace {ws}")
            done = self._idem(s, idempotency_key, "create_project", inp)
            if done is None:
                now = utcnow()
                row = ProjectRow(
                    gid=new_gid(),
                    name=inp.name,
                    notes=inp.notes,
                    workspace_gid=ws,
                    team_gid=inp.team,
                    due_on=inp.due_on,
                    start_on=inp.start_on,
                    archived=False,
                    created_at=now,
                    modified_at=now,
                )
                s.add(row)
                s.flush()
                s.add(SectionRow(gid=new_gid(), name="Untitled section", project_gid=row.gid, created_at=now))
                self._remember(s, idempotency_key, "create_project", inp, row.gid)
                done = row.gid
            s.flush()
            return project_view(s, self._get_project(s, done, "project_gid"))

    @_in_thread
    def get_project(self, project_gid: str) -> Project:
        with self._sessions() as s:
            return project_view(s, self._get_project(s, project_gid, "project_gid"))

    @_in_thread
    def update_project(self, project_gid: str, changes: ProjectUpdate | Mapping[str, Any]) -> Project:
        check_gid(project_gid, "project_gid")
        upd = parse_input(ProjectUpdate, changes)
        if not upd.model_fields_set:
            raise InvalidArgument("changes", "no fields to change; give at least one of name, notes, due_on, start_on")
        with self._sessions() as s, s.begin():
            row = self._get_project(s, project_gid, "project_gid")
            fields = upd.model_fields_set
            start = upd.start_on if "start_on" in fields else row.start_on
            due = upd.due_on if "due_on" in fields else row.due_on
            check_dates(start, due, blame="start_on" if "start_on" in fields else "due_on")
            for key in fields:
                setattr(row, key, getattr(upd, key) if key != "notes" else (upd.notes or ""))
            row.modified_at = utcnow()
            s.flush()
            return project_view(s, row)

    @_in_thread
    def create_section(self, project_gid: str, name: str, *, idempotency_key: str | None = None) -> Section:
        check_text(name, "name", NAME_MAX)
        with self._sessions() as s, s.begin():
            project = self._get_project(s, project_gid, "project_gid")
            done = self._idem(s, idempotency_key, "create_section", [project_gid, name])
            if done is None:
                row = SectionRow(gid=new_gid(), name=name, project_gid=project.gid, created_at=utcnow())
                s.add(row)
                self._remember(s, idempotency_key, "create_section", [project_gid, name], row.gid)
                done = row.gid
            s.flush()
            return section_view(s, s.scalars(select(SectionRow).where(SectionRow.gid == done)).one())

    @_in_thread
    def list_sections(self, project_gid: str, *, limit: int = 50, offset: str | None = None) -> Page[Section]:
        check_limit(limit)
        with self._sessions() as s:
            self._get_project(s, project_gid, "project_gid")
            q = select(SectionRow).where(SectionRow.project_gid == project_gid)
            rows, nxt = page_rows(
                s,
                self._secret,
                q,
                SectionRow.seq,
                ("sections", project_gid),
                limit,
                offset,
                f"/projects/{project_gid}/sections",
                {},
            )
            return Page[Section](data=[section_view(s, r) for r in rows], next_page=nxt)

    # ------------------------------------------------------------ tasks

    @_in_thread
    def get_task(self, task_gid: str) -> Task:
        with self._sessions() as s:
            return task_view(s, self._get_task(s, task_gid, "task_gid"))

    @_in_thread
    def create_task(self, data: TaskCreate | Mapping[str, Any], *, idempotency_key: str | None = None) -> Task:
        inp = parse_input(TaskCreate, data)
        check_dates(inp.start_on, inp.due_on)
        with self._sessions() as s, s.begin():
            placements = self._placements(s, inp)
            first_ws = s.get(ProjectRow, placements[0][0]) if placements else None
            ws = self._workspace(s, inp.workspace or (first_ws.workspace_gid if first_ws else None), "workspace")
            for project_gid, _ in placements:
                if s.scalar(select(ProjectRow.workspace_gid).where(ProjectRow.gid == project_gid)) != ws:
                    raise InvalidArgument("projects", f"project {project_gid} is not in workspace {ws}")
            self._check_assignee(s, inp.assignee, ws)
            done = self._idem(s, idempotency_key, "create_task", inp)
            if done is None:
                row = self._insert_task(s, inp, ws, None)
                for project_gid, section_gid in placements:
                    s.add(
                        MembershipRow(
                            task_gid=row.gid,
                            project_gid=project_gid,
                            section_gid=section_gid,
                            position=self._edge_position(s, section_gid, top=False),
                        )
                    )
                self._remember(s, idempotency_key, "create_task", inp, row.gid)
                done = row.gid
            s.flush()
            return task_view(s, self._get_task(s, done, "task_gid"))

    @_in_thread
    def create_subtask(
        self, parent_gid: str, data: SubtaskCreate | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Task:
        check_gid(parent_gid, "parent_gid")
        inp = parse_input(SubtaskCreate, data)
        check_dates(inp.start_on, inp.due_on)
        with self._sessions() as s, s.begin():
            parent = self._get_task(s, parent_gid, "parent_gid")
            self._check_assignee(s, inp.assignee, parent.workspace_gid)
            done = self._idem(s, idempotency_key, "create_subtask", [parent_gid, inp])
            if done is None:
                done = self._insert_task(s, inp, parent.workspace_gid, parent.gid).gid
                self._remember(s, idempotency_key, "create_subtask", [parent_gid, inp], done)
            s.flush()
            return task_view(s, self._get_task(s, done, "task_gid"))

    @_in_thread
    def update_task(self, task_gid: str, changes: TaskUpdate | Mapping[str, Any]) -> Task:
        check_gid(task_gid, "task_gid")
        upd = parse_update(changes)
        with self._sessions() as s, s.begin():
            row = self._get_task(s, task_gid, "task_gid")
            fields = upd.model_fields_set
            start = upd.start_on if "start_on" in fields else row.start_on
            due = upd.due_on if "due_on" in fields else row.due_on
            check_dates(start, due, blame=update_date_blame(upd))
            if "assignee" in fields:
                self._check_assignee(s, upd.assignee, row.workspace_gid)
            now = utcnow()
            for key in fields:
                setattr(row, "assignee_gid" if key == "assignee" else key, getattr(upd, key))
            if "completed" in fields:
                row.completed_at = now if upd.completed else None
            row.modified_at = now
            s.flush()
            return task_view(s, row)

    @_in_thread
    def add_comment(self, task_gid: str, text: str, *, idempotency_key: str | None = None) -> Story:
        check_gid(task_gid, "task_gid")
        check_text(text, "text", COMMENT_MAX)
        with self._sessions() as s, s.begin():
            task = self._get_task(s, task_gid, "task_gid")
            done = self._idem(s, idempotency_key, "add_comment", [task_gid, text])
            if done is None:
                done = new_gid()
                s.add(
                    StoryRow(
                        gid=done, task_gid=task.gid, text=text, created_by_gid=self._actor_gid(s), created_at=utcnow()
                    )
                )
                self._remember(s, idempotency_key, "add_comment", [task_gid, text], done)
            s.flush()
            story = s.scalars(select(StoryRow).where(StoryRow.gid == done)).one()
            by = s.get(UserRow, story.created_by_gid) if story.created_by_gid else None
            return Story(
                gid=story.gid,
                text=story.text,
                created_at=story.created_at,
                created_by=Compact(gid=by.gid, name=by.name) if by else None,
                target=Compact(gid=task.gid, name=task.name),
            )

    @_in_thread
    def search_tasks(
        self,
        *,
        workspace: str | None = None,
        text: str | None = None,
        completed: bool | None = None,
        assignee: str | None = None,
        project: str | None = None,
        limit: int = 50,
        offset: str | None = None,
    ) -> Page[Task]:
        check_limit(limit)
        if text is not None:
            check_text(text, "text", NAME_MAX)
        if completed is not None and not isinstance(completed, bool):
            raise InvalidArgument("completed", "must be true, false or omitted")
        with self._sessions() as s:
            ws = self._workspace(s, workspace, "workspace")
            q = select(TaskRow).where(TaskRow.workspace_gid == ws)
            if text:
                needle = text.lower()
                q = q.where(
                    or_(
                        func.lower(TaskRow.name).contains(needle, autoescape=True),
                        func.lower(TaskRow.notes).contains(needle, autoescape=True),
                    )
                )
            if completed is not None:
                q = q.where(TaskRow.completed == completed)
            if assignee is not None:
                self._check_assignee(s, assignee, ws)
                q = q.where(TaskRow.assignee_gid == assignee)
            if project is not None:
                self._get_project(s, project, "project")
                q = q.where(TaskRow.gid.in_(select(MembershipRow.task_gid).where(MembershipRow.project_gid == project)))
            params = {"text": text, "completed": completed, "assignee.any": assignee, "projects.any": project}
            rows, nxt = page_rows(
                s,
                self._secret,
                q,
                TaskRow.seq,
                ("search", ws, text, completed, assignee, project),
                limit,
                offset,
                f"/workspaces/{ws}/tasks/search",
                params,
            )
            return Page[Task](data=[task_view(s, r) for r in rows], next_page=nxt)

    @_in_thread
    def get_user_tasks(
        self,
        user_gid: str,
        *,
        workspace: str | None = None,
        completed_since: dt.datetime | None = None,
        limit: int = 50,
        offset: str | None = None,
    ) -> Page[Task]:
        check_gid(user_gid, "user_gid")
        check_limit(limit)
        if completed_since is not None and (
            not isinstance(completed_since, dt.datetime) or completed_since.tzinfo is None
        ):
            raise InvalidArgument("completed_since", "must be a timezone-aware datetime")
        with self._sessions() as s:
            ws = self._workspace(s, workspace, "workspace")
            if s.get(UserRow, user_gid) is None:
                raise NotFound("user_gid", f"no user {user_gid}")
            q = select(TaskRow).where(TaskRow.workspace_gid == ws, TaskRow.assignee_gid == user_gid)
            if completed_since is not None:
                q = q.where(or_(TaskRow.completed.is_(False), TaskRow.completed_at >= completed_since))
            since = completed_since.isoformat() if completed_since else None
            rows, nxt = page_rows(
                s,
                self._secret,
                q,
                TaskRow.seq,
                ("user_tasks", ws, user_gid, since),
                limit,
                offset,
                "/tasks",
                {"assignee": user_gid, "workspace": ws, "completed_since": since},
            )
            return Page[Task](data=[task_view(s, r) for r in rows], next_page=nxt)

    @_in_thread
    def list_users(self, *, workspace: str | None = None, limit: int = 50, offset: str | None = None) -> Page[User]:
        check_limit(limit)
        with self._sessions() as s:
            return users_page(s, self._secret, self._workspace(s, workspace, "workspace"), limit, offset)

    @_in_thread
    def add_task_to_section(
        self, section_gid: str, task_gid: str, *, insert_before: str | None = None, insert_after: str | None = None
    ) -> None:
        check_gid(section_gid, "section_gid")
        check_gid(task_gid, "task_gid")
        if insert_before is not None and insert_after is not None:
            raise InvalidArgument("insert_before", "give insert_before or insert_after, not both")
        with self._sessions() as s, s.begin():
            section = s.scalars(select(SectionRow).where(SectionRow.gid == section_gid)).one_or_none()
            if section is None:
                raise NotFound("section_gid", f"no section {section_gid}")
            task = self._get_task(s, task_gid, "task_gid")
            project = self._get_project(s, section.project_gid, "section_gid")
            if project.workspace_gid != task.workspace_gid:
                raise InvalidArgument("task_gid", f"task {task_gid} is not in the section's workspace")
            position = self._edge_position(s, section_gid, top=True)
            for field, anchor, delta in (("insert_before", insert_before, -0.5), ("insert_after", insert_after, 0.5)):
                if anchor is None:
                    continue
                check_gid(anchor, field)
                m = s.get(MembershipRow, (anchor, section.project_gid))
                if m is None or m.section_gid != section_gid or anchor == task_gid:
                    raise InvalidArgument(field, f"task {anchor} is not another task in section {section_gid}")
                position = m.position + delta
            m = s.get(MembershipRow, (task_gid, section.project_gid))
            if m is None:
                s.add(
                    MembershipRow(
                        task_gid=task_gid, project_gid=section.project_gid, section_gid=section_gid, position=position
                    )
                )
            else:
                m.section_gid, m.position = section_gid, position
            task.modified_at = utcnow()

    # ------------------------------------------------------------ helpers

    def _workspace(self, s: Session, gid: str | None, field: str) -> str:
        gid = gid or self._default_workspace
        if gid is None:
            gids = s.scalars(select(WorkspaceRow.gid).limit(2)).all()
            if len(gids) != 1:
                raise InvalidArgument(field, "workspace is required (the sandbox holds no single default workspace)")
            return gids[0]
        check_gid(gid, field)
        if s.get(WorkspaceRow, gid) is None:
            raise NotFound(field, f"no workspace {gid}")
        return gid

    def _get_project(self, s: Session, gid: str, field: str) -> ProjectRow:
        check_gid(gid, field)
        row = s.scalars(select(ProjectRow).where(ProjectRow.gid == gid)).one_or_none()
        if row is None:
            raise NotFound(field, f"no project {gid}")
        return row

    def _get_task(self, s: Session, gid: str, field: str) -> TaskRow:
        check_gid(gid, field)
        row = s.scalars(select(TaskRow).where(TaskRow.gid == gid)).one_or_none()
        if row is None:
            raise NotFound(field, f"no task {gid}")
        return row

    def _check_assignee(self, s: Session, gid: str | None, ws: str) -> None:
        if gid is None:
            return
        check_gid(gid, "assignee")
        user = s.get(UserRow, gid)
        if user is None:
            raise NotFound("assignee", f"no user {gid}")
        if user.workspace_gid != ws:
            raise InvalidArgument("assignee", f"user {gid} is not in workspace {ws}")

    def _placements(self, s: Session, inp: TaskCreate) -> list[tuple[str, str]]:
        """(project, section) pairs of a new task, validated; a project without section gets its first one."""
        out: dict[str, str] = {}
        given = [("memberships", m.project, m.section) for m in inp.memberships]
        given += [("projects", p, None) for p in inp.projects]
        for field, project_gid, section_gid in given:
            if project_gid in out:
                raise InvalidArgument(field, f"project {project_gid} is given more than once")
            self._get_project(s, project_gid, field)
            if section_gid is None:
                first = s.scalars(
                    select(SectionRow.gid)
                    .where(SectionRow.project_gid == project_gid)
                    .order_by(SectionRow.seq)
                    .limit(1)
                ).first()
                if first is None:
                    raise InvalidArgument(field, f"project {project_gid} has no section to put the task in")
                section_gid = first
            else:
                sec = s.scalars(select(SectionRow).where(SectionRow.gid == section_gid)).one_or_none()
                if sec is None:
                    raise NotFound(field, f"no section {section_gid}")
                if sec.project_gid != project_gid:
                    raise InvalidArgument(field, f"section {section_gid} is not in project {project_gid}")
            out[project_gid] = section_gid
        return list(out.items())

    def _insert_task(self, s: Session, inp: SubtaskCreate, ws: str, parent: str | None) -> TaskRow:
        now = utcnow()
        row = TaskRow(
            gid=new_gid(),
            name=inp.name,
            notes=inp.notes,
            completed=inp.completed,
            completed_at=now if inp.completed else None,
            assignee_gid=inp.assignee,
            due_on=inp.due_on,
            start_on=inp.start_on,
            workspace_gid=ws,
            parent_gid=parent,
            created_at=now,
            modified_at=now,
        )
        s.add(row)
        s.flush()
        return row

    def _edge_position(self, s: Session, section_gid: str, *, top: bool) -> float:
        agg = func.min(MembershipRow.position) if top else func.max(MembershipRow.position)
        edge = s.scalar(select(agg).where(MembershipRow.section_gid == section_gid))
        return 0.0 if edge is None else edge + (-1.0 if top else 1.0)

    def _actor_gid(self, s: Session) -> str | None:
        if self._actor is not None:
            return self._actor
        return s.scalars(select(UserRow.gid).order_by(UserRow.email).limit(1)).first()

    def _idem(self, s: Session, key: str | None, op: str, args: Any) -> str | None:
        """The gid an earlier call with this key created, or None; same key with other args is refused."""
        if key is None:
            return None
        check_idempotency_key(key)
        row = s.get(IdempotencyRow, key)
        if row is None:
            return None
        if row.operation != op or row.fingerprint != fingerprint(op, args):
            raise InvalidArgument(
                "idempotency_key", f"key {key!r} was already used for a different {row.operation} call"
            )
        return row.gid

    def _remember(self, s: Session, key: str | None, op: str, args: Any, gid: str) -> None:
        if key is not None:
            s.add(IdempotencyRow(key=key, operation=op, fingerprint=fingerprint(op, args), gid=gid))
