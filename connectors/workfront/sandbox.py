"""Embedded Workfront sandbox: the default backend, persistent in its own SQLite file.

Same IDs (32-hex GUIDs), status codes, search semantics, paging and errors as the REST client against
Workfront. Each call validates all arguments first, then does its reads and writes in one transaction,
so an error leaves nothing behind. Each transaction runs in a worker thread, never on the event loop.

Workfront rules it mirrors: new projects are PLN, new tasks NEW, new issues NEW; setting a task CPL
makes it 100 % complete and NEW makes it 0 %; a task's percentComplete of 100 makes it CPL and any
other non-zero value moves a NEW task to INP; a project's percentComplete is the rollup of its tasks
(weighted by workRequired, plain mean when no task has work, 0 without tasks).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio.to_thread
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from connectors.workfront import inputs
from connectors.workfront.capacity import PlannedWork, compute_capacity
from connectors.workfront.errors import InvalidArgument, NotFound
from connectors.workfront.inputs import check_guid, parse
from connectors.workfront.models import (
    Directory,
    Issue,
    Note,
    Project,
    ProjectSummary,
    SearchPage,
    Task,
    TaskStatus,
    TeamCapacity,
    User,
    new_guid,
)
from connectors.workfront.people import search_users
from connectors.workfront.query import parse_search
from connectors.workfront.sandbox_convert import fingerprint as _fingerprint
from connectors.workfront.sandbox_convert import issue_model as _issue
from connectors.workfront.sandbox_convert import note_model as _note
from connectors.workfront.sandbox_convert import project_model as _project
from connectors.workfront.sandbox_convert import task_model as _task
from connectors.workfront.sandbox_schema import (
    IdempotencyRow,
    IssueRow,
    NoteRow,
    ParamValueRow,
    PortfolioRow,
    ProjectRow,
    SandboxBase,
    TaskRow,
    TeamRow,
    TemplateRow,
    TemplateTaskRow,
    UserRow,
)
from connectors.workfront.sandbox_search import run_search

T = TypeVar("T")
DB_FILENAME = "workfront_sandbox.sqlite3"
_NOTE_TARGETS: dict[str, type[Any]] = {"PROJ": ProjectRow, "TASK": TaskRow, "OPTASK": IssueRow}


def _sqlite_pragmas(conn: Any, _record: Any) -> None:
    # WAL + NORMAL: durable across process crashes, without an fsync per transaction.
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")


class WorkfrontSandbox:
    """Embedded Workfront stand-in implementing ``WorkfrontBackend`` over ``<data_dir>/workfront_sandbox.sqlite3``."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.data_dir / DB_FILENAME
        self._engine = create_engine(f"sqlite:///{self.db_path}")
        event.listen(self._engine, "connect", _sqlite_pragmas)
        SandboxBase.metadata.create_all(self._engine)

    def __repr__(self) -> str:
        return f"WorkfrontSandbox({str(self.data_dir)!r})"

    async def aclose(self) -> None:
        self._engine.dispose()

    def _tx(self, work: Callable[[Session], T]) -> T:
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            return work(session)

    async def _run(self, work: Callable[[Session], T]) -> T:
        """``work`` in one transaction, in a worker thread: SQLite I/O never blocks the event loop."""
        return await anyio.to_thread.run_sync(self._tx, work)

    # -- helpers run inside a transaction ------------------------------------------------------------

    @staticmethod
    def _need(session: Session, row_cls: type[T], obj_id: str | None, field: str, obj_code: str) -> T:
        row = session.get(row_cls, obj_id) if obj_id is not None else None
        if row is None:
            raise NotFound(field, obj_code, str(obj_id))
        return row

    @staticmethod
    def _replay(session: Session, key: str | None, operation: str, args: Any) -> tuple[str, str] | None:
        if key is None:
            return None
        row = session.get(IdempotencyRow, key)
        if row is None:
            return None
        if row.operation != operation or row.fingerprint != _fingerprint(operation, args):
            raise InvalidArgument(
                "idempotency_key", "already used for a different call; use a new key for new arguments"
            )
        return row.obj_code, row.obj_id

    @staticmethod
    def _remember(session: Session, key: str | None, operation: str, args: Any, code: str, obj_id: str) -> None:
        if key is not None:
            fp = _fingerprint(operation, args)
            session.add(IdempotencyRow(key=key, operation=operation, fingerprint=fp, obj_code=code, obj_id=obj_id))

    @staticmethod
    def _params(session: Session, obj_id: str) -> dict[str, Any]:
        rows = session.scalars(select(ParamValueRow).where(ParamValueRow.obj_id == obj_id))
        return {r.name: json.loads(r.value_json) for r in rows}

    @staticmethod
    def _rollup(session: Session, project: ProjectRow) -> None:
        session.flush()
        tasks = session.scalars(select(TaskRow).where(TaskRow.project_id == project.id)).all()
        work = sum(t.work_required for t in tasks)
        if not tasks:
            pct = 0.0
        elif work > 0:
            pct = sum(t.percent_complete * t.work_required for t in tasks) / work
        else:
            pct = sum(t.percent_complete for t in tasks) / len(tasks)
        project.percent_complete = round(pct, 2)

    # -- protocol ---------------------------------------------------------------------------------------

    async def create_project(self, name: str, **kwargs: Any) -> Project:
        args = parse(inputs.ProjectCreate, name=name, **kwargs)
        inputs.check_date_order(args.planned_start_date, args.planned_completion_date, "planned_completion_date")

        def work(s: Session) -> Project:
            replay = self._replay(s, args.idempotency_key, "create_project", args)
            if replay:
                return _project(self._need(s, ProjectRow, replay[1], "ID", "PROJ"), self._params(s, replay[1]))
            template = args.template_id and self._need(s, TemplateRow, args.template_id, "template_id", "TMPL")
            if args.portfolio_id:
                self._need(s, PortfolioRow, args.portfolio_id, "portfolio_id", "PORT")
            if args.owner_id:
                self._need(s, UserRow, args.owner_id, "owner_id", "USER")
            start = args.planned_start_date or datetime.now(UTC).date()
            row = ProjectRow(
                id=new_guid(),
                name=args.name,
                status="PLN",
                percent_complete=0.0,
                planned_start_date=start,
                portfolio_id=args.portfolio_id,
                template_id=args.template_id,
                owner_id=args.owner_id,
                description=args.description,
            )
            s.add(row)
            s.flush()
            end = start
            if template:
                specs = s.scalars(
                    select(TemplateTaskRow)
                    .where(TemplateTaskRow.template_id == template.id)
                    .order_by(TemplateTaskRow.position)
                )
                for spec in specs:
                    t_start = start + timedelta(days=spec.start_offset_days)
                    t_end = t_start + timedelta(days=max(spec.duration_days, 1) - 1)
                    end = max(end, t_end)
                    s.add(
                        TaskRow(
                            id=new_guid(),
                            project_id=row.id,
                            name=spec.name,
                            status="NEW",
                            planned_start_date=t_start,
                            planned_completion_date=t_end,
                            percent_complete=0.0,
                            work_required=spec.work_required,
                        )
                    )
            row.planned_completion_date = args.planned_completion_date or end
            for key, value in args.custom_fields.items():
                text = value if isinstance(value, str) or value is None else json.dumps(value)
                s.add(ParamValueRow(obj_id=row.id, name=key, value_json=json.dumps(value), value_text=text))
            self._rollup(s, row)
            self._remember(s, args.idempotency_key, "create_project", args, "PROJ", row.id)
            return _project(row, args.custom_fields)

        return await self._run(work)

    async def get_project(self, project_id: str) -> ProjectSummary:
        check_guid(project_id, "project_id")

        def work(s: Session) -> ProjectSummary:
            row = self._need(s, ProjectRow, project_id, "project_id", "PROJ")
            counts = {code.value: 0 for code in TaskStatus}
            grouped = s.execute(
                select(TaskRow.status, func.count()).where(TaskRow.project_id == row.id).group_by(TaskRow.status)
            )
            for status, n in grouped:
                counts[status] = n
            return ProjectSummary(
                project=_project(row, self._params(s, row.id)), task_counts=counts, task_total=sum(counts.values())
            )

        return await self._run(work)

    async def search(
        self,
        obj_code: str,
        filters: Mapping[str, Any] | None = None,
        fields: Sequence[str] | None = None,
        limit: int = 100,
        first: int = 0,
    ) -> SearchPage:
        query = parse_search(obj_code, filters, fields, limit, first)
        return await self._run(lambda s: run_search(s, query))

    async def create_task(self, project_id: str, name: str, **kwargs: Any) -> Task:
        args = parse(inputs.TaskCreate, project_id=project_id, name=name, **kwargs)
        inputs.check_date_order(args.planned_start_date, args.planned_completion_date, "planned_completion_date")

        def work(s: Session) -> Task:
            replay = self._replay(s, args.idempotency_key, "create_task", args)
            if replay:
                return _task(self._need(s, TaskRow, replay[1], "ID", "TASK"))
            project = self._need(s, ProjectRow, args.project_id, "project_id", "PROJ")
            if args.assigned_to_id:
                self._need(s, UserRow, args.assigned_to_id, "assigned_to_id", "USER")
            if args.parent_id:
                parent = self._need(s, TaskRow, args.parent_id, "parent_id", "TASK")
                if parent.project_id != project.id:
                    raise InvalidArgument("parent_id", "the parent task belongs to another project")
            start = args.planned_start_date or project.planned_start_date
            end = args.planned_completion_date or start
            inputs.check_date_order(start, end, "planned_completion_date")
            row = TaskRow(
                id=new_guid(),
                project_id=project.id,
                name=args.name,
                status="NEW",
                assigned_to_id=args.assigned_to_id,
                planned_start_date=start,
                planned_completion_date=end,
                percent_complete=0.0,
                description=args.description,
                parent_id=args.parent_id,
                work_required=args.work_required,
            )
            s.add(row)
            self._rollup(s, project)
            self._remember(s, args.idempotency_key, "create_task", args, "TASK", row.id)
            return _task(row)

        return await self._run(work)

    async def update_task(self, task_id: str, changes: Mapping[str, Any]) -> Task:
        check_guid(task_id, "task_id")
        parsed = inputs.parse_changes(dict(changes) if isinstance(changes, Mapping) else changes)
        wire = parsed.wire()

        def work(s: Session) -> Task:
            row = self._need(s, TaskRow, task_id, "task_id", "TASK")
            start = parsed.planned_start_date if "plannedStartDate" in wire else row.planned_start_date
            end = parsed.planned_completion_date if "plannedCompletionDate" in wire else row.planned_completion_date
            field = "changes.plannedCompletionDate" if "plannedCompletionDate" in wire else "changes.plannedStartDate"
            inputs.check_date_order(start, end, field)
            for attr in ("name", "description", "planned_start_date", "planned_completion_date", "work_required"):
                if attr in parsed.model_fields_set:
                    setattr(row, attr, getattr(parsed, attr))
            if "percent_complete" in parsed.model_fields_set and parsed.percent_complete is not None:
                row.percent_complete = parsed.percent_complete
                if parsed.percent_complete >= 100:
                    row.status = "CPL"
                elif parsed.percent_complete > 0 and row.status == "NEW":
                    row.status = "INP"
            self._rollup(s, self._need(s, ProjectRow, row.project_id, "task_id", "PROJ"))
            return _task(row)

        return await self._run(work)

    async def update_project(self, project_id: str, changes: Mapping[str, Any]) -> Project:
        check_guid(project_id, "project_id")
        parsed = parse(inputs.ProjectChanges, "changes.", **dict(changes))

        def work(s: Session) -> Project:
            row = self._need(s, ProjectRow, project_id, "project_id", "PROJ")
            given = parsed.model_fields_set
            start = parsed.planned_start_date if "planned_start_date" in given else row.planned_start_date
            end = parsed.planned_completion_date if "planned_completion_date" in given else row.planned_completion_date
            field = (
                "changes.plannedCompletionDate" if "planned_completion_date" in given else "changes.plannedStartDate"
            )
            inputs.check_date_order(start, end, field)
            for attr in ("name", "description", "planned_start_date", "planned_completion_date"):
                if attr in given:
                    setattr(row, attr, getattr(parsed, attr))
            for key, value in parsed.custom_fields.items():
                text = value if isinstance(value, str) or value is None else json.dumps(value)
                s.merge(ParamValueRow(obj_id=row.id, name=key, value_json=json.dumps(value), value_text=text))
            s.flush()
            return _project(row, self._params(s, row.id))

        return await self._run(work)

    async def update_status(self, obj_type: Literal["task", "project"], obj_id: str, status: str) -> Task | Project:
        code, status = inputs.check_status(obj_type, status)
        check_guid(obj_id, "obj_id")

        def work(s: Session) -> Task | Project:
            if code == "PROJ":
                proj = self._need(s, ProjectRow, obj_id, "obj_id", "PROJ")
                proj.status = status
                return _project(proj, self._params(s, proj.id))
            task = self._need(s, TaskRow, obj_id, "obj_id", "TASK")
            task.status = status
            if status == "CPL":
                task.percent_complete = 100.0
            elif status == "NEW":
                task.percent_complete = 0.0
            self._rollup(s, self._need(s, ProjectRow, task.project_id, "obj_id", "PROJ"))
            return _task(task)

        return await self._run(work)

    async def assign_resource(self, task_id: str, user_id: str) -> Task:
        check_guid(task_id, "task_id")
        check_guid(user_id, "user_id")

        def work(s: Session) -> Task:
            task = self._need(s, TaskRow, task_id, "task_id", "TASK")
            self._need(s, UserRow, user_id, "user_id", "USER")
            task.assigned_to_id = user_id
            return _task(task)

        return await self._run(work)

    async def search_users(self, text: str | None = None, *, limit: int = 50) -> list[User]:
        return await search_users(self.search, text, limit)

    async def get_capacity(self, team_id: str, start_date: date | str, end_date: date | str) -> TeamCapacity:
        q = parse(inputs.CapacityQuery, team_id=team_id, start_date=start_date, end_date=end_date)
        inputs.check_capacity_window(q)

        def work(s: Session) -> TeamCapacity:
            self._need(s, TeamRow, q.team_id, "team_id", "TEAMOB")
            users = s.scalars(select(UserRow).where(UserRow.home_team_id == q.team_id)).all()
            tasks = s.scalars(select(TaskRow).where(TaskRow.assigned_to_id.in_([u.id for u in users]))).all()
            return compute_capacity(
                q.team_id,
                q.start_date,
                q.end_date,
                [User(ID=u.id, name=u.name, emailAddr=u.email_addr, homeTeamID=u.home_team_id) for u in users],
                [
                    PlannedWork(
                        t.assigned_to_id, t.planned_start_date, t.planned_completion_date, t.work_required, t.status
                    )
                    for t in tasks
                ],
            )

        return await self._run(work)

    async def create_issue(self, project_id: str, name: str, **kwargs: Any) -> Issue:
        args = parse(inputs.IssueCreate, project_id=project_id, name=name, **kwargs)

        def work(s: Session) -> Issue:
            replay = self._replay(s, args.idempotency_key, "create_issue", args)
            if replay:
                return _issue(self._need(s, IssueRow, replay[1], "ID", "OPTASK"))
            self._need(s, ProjectRow, args.project_id, "project_id", "PROJ")
            if args.assigned_to_id:
                self._need(s, UserRow, args.assigned_to_id, "assigned_to_id", "USER")
            row = IssueRow(
                id=new_guid(),
                project_id=args.project_id,
                name=args.name,
                status="NEW",
                description=args.description,
                priority=args.priority,
                assigned_to_id=args.assigned_to_id,
            )
            s.add(row)
            self._remember(s, args.idempotency_key, "create_issue", args, "OPTASK", row.id)
            return _issue(row)

        return await self._run(work)

    async def add_note(self, obj_code: str, obj_id: str, text: str, **kwargs: Any) -> Note:
        args = parse(inputs.NoteCreate, obj_code=obj_code, obj_id=obj_id, text=text, **kwargs)

        def work(s: Session) -> Note:
            replay = self._replay(s, args.idempotency_key, "add_note", args)
            if replay:
                return _note(self._need(s, NoteRow, replay[1], "ID", "NOTE"))
            self._need(s, _NOTE_TARGETS[args.obj_code], args.obj_id, "obj_id", args.obj_code)
            now = datetime.now(UTC).replace(tzinfo=None)
            row = NoteRow(
                id=new_guid(),
                note_obj_code=args.obj_code,
                obj_id=args.obj_id,
                note_text=args.text,
                entry_date=now.replace(microsecond=now.microsecond // 1000 * 1000),
            )
            s.add(row)
            self._remember(s, args.idempotency_key, "add_note", args, "NOTE", row.id)
            return _note(row)

        return await self._run(work)

    # -- reference data (administrators' objects, not part of the protocol) ---------------------------

    async def load_directory(self, directory: Directory) -> None:
        """Insert or update users, teams, portfolios and templates (their IDs are kept as given)."""
        for obj in [*directory.users, *directory.teams, *directory.portfolios, *directory.templates]:
            check_guid(obj.id, "directory")

        def work(s: Session) -> None:
            for t in directory.teams:
                s.merge(TeamRow(id=t.id, name=t.name))
            for p in directory.portfolios:
                s.merge(PortfolioRow(id=p.id, name=p.name))
            for u in directory.users:
                s.merge(UserRow(id=u.id, name=u.name, email_addr=u.email_addr, home_team_id=u.home_team_id))
            for tpl in directory.templates:
                s.merge(TemplateRow(id=tpl.id, name=tpl.name))
                for old in s.scalars(select(TemplateTaskRow).where(TemplateTaskRow.template_id == tpl.id)):
                    s.delete(old)
                for i, spec in enumerate(tpl.tasks):
                    s.add(
                        TemplateTaskRow(
                            template_id=tpl.id,
                            position=i,
                            name=spec.name,
                            work_required=spec.work_required,
                            start_offset_days=spec.start_offset_days,
                            duration_days=spec.duration_days,
                        )
                    )

        await self._run(work)
