"""``WorkfrontRestClient``: the ``WorkfrontBackend`` protocol over Workfront's ``/attask/api/v{N}/`` REST API.

Arguments are validated locally with the same rules as the sandbox before any request, so bad input
never reaches Workfront. References (template, portfolio, owner, project, assignee, parent, team, note
target) are looked up first with a cheap GET, because a Workfront error for an unknown reference does not
say which of our arguments was wrong; that keeps errors identical to the sandbox's.

Wire format: writes send ``updates=<JSON>`` and ``fields=`` as a form body (POST to create, PUT to
update); reads use ``GET /{objCode}/{ID}?fields=`` and ``GET /{objCode}/search`` with ``_Mod``/``_Range``
filters, ``$$FIRST``/``$$LIMIT`` and ``ID_Sort=asc``; totals come from ``GET /{objCode}/count``.
Answers are ``{"data": ...}`` or ``{"error": {"class", "message", "title"}}``.

Idempotency keys are validated and accepted for interface parity but Workfront cannot store them; see
``backend.py`` and ``transport.py`` (POSTs are not retried when they may have been applied).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

import httpx

from connectors.key_turns import KeyTurns
from connectors.workfront import inputs
from connectors.workfront.capacity import PlannedWork, compute_capacity
from connectors.workfront.errors import InvalidArgument
from connectors.workfront.inputs import check_guid, parse
from connectors.workfront.models import (
    Issue,
    Note,
    Project,
    ProjectSummary,
    SearchPage,
    Task,
    TaskStatus,
    TeamCapacity,
    User,
)
from connectors.workfront.people import search_users
from connectors.workfront.query import CATALOG, MAX_LIMIT, SearchQuery, field_type, normalize, parse_search
from connectors.workfront.transport import AuthScheme, Target, WorkfrontHttp

_FIELDS = {
    code: ",".join(f for f in CATALOG[code] if f not in ("ID", "objCode"))
    for code in ("PROJ", "TASK", "OPTASK", "NOTE", "USER")
}
_FIELDS["PROJ"] += ",parameterValues"
_ID_CHUNK = 50  # assignee IDs per capacity query, to stay far below Workfront's 8892-byte URI limit


def _as_date(value: Any) -> date | None:
    return value if isinstance(value, date) or value is None else date.fromisoformat(str(value)[:10])


def _from_wire(code: str, data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for name, kind in CATALOG[code].items():
        if name in out:
            out[name] = normalize(kind, out[name])
    return out


def _query_params(query: SearchQuery) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    for cond in query.conditions:
        if cond.op in ("between", "notbetween"):
            params += [(cond.field, cond.raw[0]), (f"{cond.field}_Range", cond.raw[1])]
        else:
            params += [(cond.field, raw) for raw in cond.raw]
        params.append((f"{cond.field}_Mod", cond.op))
    return params


class WorkfrontRestClient:
    """Real Workfront backend. ``api_key`` is a session ID / API key (``auth="session"``, sent as the
    ``sessionID`` header) or an OAuth2 access token (``auth="bearer"``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        api_version: str = "20.0",
        auth: AuthScheme = "session",
        rate_per_minute: float = 100,
        rate_period_seconds: float = 60.0,
        max_retries: int = 3,
        timeout: float = 10.0,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        max_retry_after: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = WorkfrontHttp(
            base_url,
            api_key,
            api_version=api_version,
            auth=auth,
            rate_per_minute=rate_per_minute,
            rate_period_seconds=rate_period_seconds,
            max_retries=max_retries,
            timeout=timeout,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_retry_after=max_retry_after,
            transport=transport,
        )
        self._turns = KeyTurns()

    def __repr__(self) -> str:
        return f"WorkfrontRestClient({self.http!r})"

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- wire helpers --------------------------------------------------------------------------------

    async def _get(self, code: str, obj_id: str, field: str, fields: str = "ID") -> dict[str, Any]:
        data = await self.http.call(
            "GET", f"{code.lower()}/{obj_id}", Target(field, code, obj_id), params=[("fields", fields)]
        )
        if isinstance(data, list):  # GET by ID may answer with a one-element list
            data = data[0] if data else {}
        return _from_wire(code, data)

    async def _write(
        self, method: Literal["POST", "PUT"], code: str, obj_id: str | None, updates: dict[str, Any], field: str
    ) -> dict[str, Any]:
        path = code.lower() if obj_id is None else f"{code.lower()}/{obj_id}"
        form = {"updates": json.dumps(updates), "fields": _FIELDS[code]}
        data = await self.http.call(method, path, Target(field, code, obj_id or ""), form=form)
        return _from_wire(code, data)

    async def _replayed(self, code: str, key: str | None, name: str) -> dict[str, Any] | None:
        """The object an earlier create with idempotency ``key`` made, or None. Workfront has no idempotency
        header, so the key rides in the object's ``extRefID`` and a retry (after a timeout whose outcome is
        unknown, or from another process) finds it there instead of creating a second one."""
        if key is None:
            return None
        params = [("extRefID", key), ("fields", _FIELDS[code]), ("$$LIMIT", "1")]
        rows = await self.http.call("GET", f"{code.lower()}/search", Target("idempotency_key", code), params=params)
        if not rows:
            return None
        found = _from_wire(code, rows[0])
        if found.get("name") != name:
            raise InvalidArgument(
                "idempotency_key", f"was already used to create {code} {found.get('ID')} named {found.get('name')!r}"
            )
        return found

    async def _search(self, query: SearchQuery) -> tuple[list[dict[str, Any]], int]:
        base = _query_params(query)
        wire_fields = ",".join(f for f in query.fields if f not in ("ID", "objCode"))
        params = [
            *base,
            ("fields", wire_fields or "ID"),
            ("ID_Sort", "asc"),
            ("$$FIRST", str(query.first)),
            ("$$LIMIT", str(query.limit)),
        ]
        target = Target("filters", query.obj_code)
        rows = await self.http.call("GET", f"{query.obj_code.lower()}/search", target, params=params)
        counted = await self.http.call("GET", f"{query.obj_code.lower()}/count", target, params=base)
        total = int(counted["count"] if isinstance(counted, dict) else counted)
        items = []
        for row in rows:
            item: dict[str, Any] = {}
            for name in query.fields:
                if name == "objCode":
                    item[name] = query.obj_code
                elif name == "parameterValues":
                    item[name] = dict(sorted((row.get(name) or {}).items()))
                else:
                    item[name] = normalize(field_type(query.obj_code, name) or "str", row.get(name))
            items.append(item)
        return items, total

    async def _search_all(self, code: str, filters: dict[str, Any], fields: Sequence[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        first = 0
        while True:
            items, total = await self._search(parse_search(code, filters, fields, MAX_LIMIT, first))
            out += items
            first += len(items)
            if not items or first >= total:
                return out

    async def iter_all(
        self, code: str, filters: Sequence[tuple[str, str]], fields: Sequence[str], page_size: int = MAX_LIMIT
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every object of ``code`` matching raw Workfront ``filters`` (name/value pairs, ``_Mod`` included), a page
        at a time in ID order, with ``fields`` (Workfront names; ``extRefID`` and ``lastUpdateDate`` allowed)."""
        first = 0
        while True:
            params = [*filters, ("fields", ",".join(fields)), ("ID_Sort", "asc"), ("$$FIRST", str(first)),
                      ("$$LIMIT", str(page_size))]  # fmt: skip
            rows = await self.http.call("GET", f"{code.lower()}/search", Target("filters", code), params=params)
            if rows:
                yield [_from_wire(code, r) for r in rows]
            if len(rows) < page_size:
                return
            first += len(rows)

    async def check_access(self) -> str:
        """One cheap authenticated call (the count of users): what ``mcc connect check`` reports; a typed error
        (forbidden, upstream_error, ...) when the URL or credentials are wrong."""
        counted = await self.http.call("GET", "user/count", Target("api_key", "USER"))
        total = int(counted["count"] if isinstance(counted, dict) else counted)
        return f"{total} users visible"

    # -- protocol --------------------------------------------------------------------------------------

    async def create_project(self, name: str, **kwargs: Any) -> Project:
        args = parse(inputs.ProjectCreate, name=name, **kwargs)
        inputs.check_date_order(args.planned_start_date, args.planned_completion_date, "planned_completion_date")
        async with self._turns(args.idempotency_key):  # find-then-create without a twin in flight
            if (done := await self._replayed("PROJ", args.idempotency_key, args.name)) is not None:
                return Project.model_validate(done)
            if args.template_id:
                await self._get("TMPL", args.template_id, "template_id")
            if args.portfolio_id:
                await self._get("PORT", args.portfolio_id, "portfolio_id")
            if args.owner_id:
                await self._get("USER", args.owner_id, "owner_id")
            updates: dict[str, Any] = {
                "name": args.name,
                "plannedStartDate": (args.planned_start_date or datetime.now(UTC).date()).isoformat(),
            }
            if args.planned_completion_date:
                updates["plannedCompletionDate"] = args.planned_completion_date.isoformat()
            for key, value in (
                ("templateID", args.template_id),
                ("portfolioID", args.portfolio_id),
                ("ownerID", args.owner_id),
                ("description", args.description),
                ("extRefID", args.idempotency_key),
            ):
                if value is not None:
                    updates[key] = value
            updates.update(args.custom_fields)
            return Project.model_validate(await self._write("POST", "PROJ", None, updates, "name"))

    async def get_project(self, project_id: str) -> ProjectSummary:
        check_guid(project_id, "project_id")
        project = Project.model_validate(await self._get("PROJ", project_id, "project_id", _FIELDS["PROJ"]))
        counts = {code.value: 0 for code in TaskStatus}
        for task in await self._search_all("TASK", {"projectID": project_id}, ["status"]):
            counts[task["status"]] = counts.get(task["status"], 0) + 1
        return ProjectSummary(project=project, task_counts=counts, task_total=sum(counts.values()))

    async def search(
        self,
        obj_code: str,
        filters: Mapping[str, Any] | None = None,
        fields: Sequence[str] | None = None,
        limit: int = 100,
        first: int = 0,
    ) -> SearchPage:
        query = parse_search(obj_code, filters, fields, limit, first)
        items, total = await self._search(query)
        nxt = first + len(items)
        return SearchPage(
            obj_code=query.obj_code,
            first=first,
            limit=limit,
            total=total,
            items=items,
            next_first=nxt if items and nxt < total else None,
        )

    async def create_task(self, project_id: str, name: str, **kwargs: Any) -> Task:
        args = parse(inputs.TaskCreate, project_id=project_id, name=name, **kwargs)
        inputs.check_date_order(args.planned_start_date, args.planned_completion_date, "planned_completion_date")
        async with self._turns(args.idempotency_key):  # find-then-create without a twin in flight
            if (done := await self._replayed("TASK", args.idempotency_key, args.name)) is not None:
                return Task.model_validate(done)
            project = await self._get("PROJ", args.project_id, "project_id", "plannedStartDate")
            if args.assigned_to_id:
                await self._get("USER", args.assigned_to_id, "assigned_to_id")
            if args.parent_id:
                parent = await self._get("TASK", args.parent_id, "parent_id", "projectID")
                if parent.get("projectID") != args.project_id:
                    raise InvalidArgument("parent_id", "the parent task belongs to another project")
            start = args.planned_start_date or (
                date.fromisoformat(project["plannedStartDate"]) if project.get("plannedStartDate") else None
            )
            end = args.planned_completion_date or start
            inputs.check_date_order(start, end, "planned_completion_date")
            updates: dict[str, Any] = {
                "projectID": args.project_id, "name": args.name, "workRequired": args.work_required,
            }  # fmt: skip
            for key, value in (
                ("assignedToID", args.assigned_to_id),
                ("plannedStartDate", start and start.isoformat()),
                ("plannedCompletionDate", end and end.isoformat()),
                ("description", args.description),
                ("parentID", args.parent_id),
                ("extRefID", args.idempotency_key),
            ):
                if value is not None:
                    updates[key] = value
            return Task.model_validate(await self._write("POST", "TASK", None, updates, "project_id"))

    async def update_task(self, task_id: str, changes: Mapping[str, Any]) -> Task:
        check_guid(task_id, "task_id")
        parsed = inputs.parse_changes(dict(changes) if isinstance(changes, Mapping) else changes)
        wire = parsed.wire()
        current = await self._get("TASK", task_id, "task_id", "plannedStartDate,plannedCompletionDate")
        start = wire.get("plannedStartDate", current.get("plannedStartDate"))
        end = wire.get("plannedCompletionDate", current.get("plannedCompletionDate"))
        field = "changes.plannedCompletionDate" if "plannedCompletionDate" in wire else "changes.plannedStartDate"
        inputs.check_date_order(start and date.fromisoformat(start), end and date.fromisoformat(end), field)
        return Task.model_validate(await self._write("PUT", "TASK", task_id, wire, "task_id"))

    async def update_project(self, project_id: str, changes: Mapping[str, Any]) -> Project:
        check_guid(project_id, "project_id")
        parsed = parse(inputs.ProjectChanges, "changes.", **dict(changes))
        wire = parsed.wire()
        if "plannedStartDate" in wire or "plannedCompletionDate" in wire:
            current = await self._get("PROJ", project_id, "project_id", "plannedStartDate,plannedCompletionDate")
            start = wire.get("plannedStartDate", current.get("plannedStartDate"))
            end = wire.get("plannedCompletionDate", current.get("plannedCompletionDate"))
            field = "changes.plannedCompletionDate" if "plannedCompletionDate" in wire else "changes.plannedStartDate"
            inputs.check_date_order(_as_date(start), _as_date(end), field)
        return Project.model_validate(await self._write("PUT", "PROJ", project_id, wire, "project_id"))

    async def update_status(self, obj_type: Literal["task", "project"], obj_id: str, status: str) -> Task | Project:
        code, status = inputs.check_status(obj_type, status)
        check_guid(obj_id, "obj_id")
        data = await self._write("PUT", code, obj_id, {"status": status}, "obj_id")
        return Project.model_validate(data) if code == "PROJ" else Task.model_validate(data)

    async def assign_resource(self, task_id: str, user_id: str) -> Task:
        check_guid(task_id, "task_id")
        check_guid(user_id, "user_id")
        await self._get("TASK", task_id, "task_id")
        await self._get("USER", user_id, "user_id")
        return Task.model_validate(await self._write("PUT", "TASK", task_id, {"assignedToID": user_id}, "task_id"))

    async def search_users(self, text: str | None = None, *, limit: int = 50) -> list[User]:
        return await search_users(self.search, text, limit)

    async def get_capacity(self, team_id: str, start_date: date | str, end_date: date | str) -> TeamCapacity:
        q = parse(inputs.CapacityQuery, team_id=team_id, start_date=start_date, end_date=end_date)
        inputs.check_capacity_window(q)
        await self._get("TEAMOB", q.team_id, "team_id")
        users = [
            User.model_validate(u)
            for u in await self._search_all("USER", {"homeTeamID": q.team_id}, ["name", "emailAddr", "homeTeamID"])
        ]
        work: list[PlannedWork] = []
        ids = [u.id for u in users]
        for i in range(0, len(ids), _ID_CHUNK):
            filters: dict[str, Any] = {
                "assignedToID": ids[i : i + _ID_CHUNK],
                "assignedToID_Mod": "in",
                "plannedStartDate": q.end_date.isoformat(),
                "plannedStartDate_Mod": "lte",
                "plannedCompletionDate": q.start_date.isoformat(),
                "plannedCompletionDate_Mod": "gte",
            }
            fields = ["assignedToID", "plannedStartDate", "plannedCompletionDate", "workRequired", "status"]
            for t in await self._search_all("TASK", filters, fields):
                work.append(
                    PlannedWork(
                        t["assignedToID"],
                        t["plannedStartDate"] and date.fromisoformat(t["plannedStartDate"]),
                        t["plannedCompletionDate"] and date.fromisoformat(t["plannedCompletionDate"]),
                        t["workRequired"] or 0,
                        t["status"],
                    )
                )
        return compute_capacity(q.team_id, q.start_date, q.end_date, users, work)

    async def create_issue(self, project_id: str, name: str, **kwargs: Any) -> Issue:
        args = parse(inputs.IssueCreate, project_id=project_id, name=name, **kwargs)
        async with self._turns(args.idempotency_key):  # find-then-create without a twin in flight
            if (done := await self._replayed("OPTASK", args.idempotency_key, args.name)) is not None:
                return Issue.model_validate(done)
            await self._get("PROJ", args.project_id, "project_id")
            if args.assigned_to_id:
                await self._get("USER", args.assigned_to_id, "assigned_to_id")
            updates: dict[str, Any] = {"projectID": args.project_id, "name": args.name, "priority": args.priority}
            if args.description is not None:
                updates["description"] = args.description
            if args.assigned_to_id:
                updates["assignedToID"] = args.assigned_to_id
            if args.idempotency_key:
                updates["extRefID"] = args.idempotency_key
            return Issue.model_validate(await self._write("POST", "OPTASK", None, updates, "project_id"))

    async def add_note(self, obj_code: str, obj_id: str, text: str, **kwargs: Any) -> Note:
        args = parse(inputs.NoteCreate, obj_code=obj_code, obj_id=obj_id, text=text, **kwargs)
        await self._get(args.obj_code, args.obj_id, "obj_id")
        updates = {"noteText": args.text, "noteObjCode": args.obj_code, "objID": args.obj_id}
        return Note.model_validate(await self._write("POST", "NOTE", None, updates, "obj_id"))
