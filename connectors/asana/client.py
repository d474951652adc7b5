"""AsanaRestClient: the AsanaBackend protocol over Asana's REST API (httpx, async).

Retry policy: GET and PUT (and the idempotent POST /sections/{gid}/addTask) are retried on 5xx, timeouts and
transport errors with exponential backoff and full jitter. Other POSTs create objects and Asana has no
idempotency header, so they are retried only when the request provably was not processed: 429 and connection
failures before sending. Every 429 waits the server's Retry-After. Requests pass an aiolimiter AsyncLimiter
(150/min by default; pass `limiter=` to share one per system). The token lives only in the httpx headers:
it is never logged nor shown in repr.

Asana's task search does not page by offset; search_tasks pages by created_at (ascending) and mints its own
signed opaque offset. Every other offset is Asana's, passed through as given.

Create idempotency keys are remembered in an `IdempotencyMemory` (idempotency.py): in memory by default, in the
spine's event log when the composition root passes one, so retries survive restarts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx
from aiolimiter import AsyncLimiter
from pydantic import BaseModel

from connectors.asana.client_wire import (
    decode_search_offset,
    encode_search_offset,
    error_from_response,
    retry_after_seconds,
)
from connectors.asana.custom_fields_rest import RestProjectFields
from connectors.asana.errors import (
    InvalidArgument,
    RateLimited,
    ServerError,
)
from connectors.asana.idempotency import CreateOnce, IdempotencyMemory, InMemoryIdempotency
from connectors.asana.models import (
    COMMENT_MAX,
    NAME_MAX,
    NextPage,
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
    check_limit,
    check_text,
    parse_input,
    parse_update,
)

log = logging.getLogger(__name__)

ASANA_API = "https://app.asana.com/api/1.0"
USER_FIELDS = "name,email"
PROJECT_FIELDS = (
    "name,notes,archived,workspace.name,team.name,due_on,start_on,current_status,current_status_update.status_type,"
    "current_status_update.title,completed,completed_at,created_at,modified_at"
)
SECTION_FIELDS = "name,project.name,created_at"
TASK_FIELDS = (
    "name,notes,completed,completed_at,assignee.name,due_on,start_on,projects.name,memberships.project.name,"
    "memberships.section.name,parent.name,num_subtasks,workspace.name,custom_fields,created_at,modified_at"
)
STORY_FIELDS = "text,type,resource_subtype,created_at,created_by.name,target.name"

M = TypeVar("M", bound=BaseModel)


class AsanaRestClient:
    """Real Asana backend. `workspace_gid` is the default workspace for calls that need one."""

    def __init__(
        self,
        base_url: str = ASANA_API,
        *,
        token: str,
        rate_per_minute: float = 150,
        max_retries: int = 4,
        workspace_gid: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
        limiter: AsyncLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        idempotency: IdempotencyMemory | None = None,
        custom_field_gids: Mapping[str, str] | None = None,
    ) -> None:
        if not token:
            raise InvalidArgument("token", "an Asana personal access token is required")
        if workspace_gid is not None:
            check_gid(workspace_gid, "workspace_gid")
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        self._limiter = limiter or AsyncLimiter(rate_per_minute, 60)
        self._max_retries = max_retries
        self._workspace = workspace_gid
        self._backoff_base, self._backoff_max, self._max_retry_after = backoff_base, backoff_max, max_retry_after
        self._sleep = sleep
        self._offset_key = hashlib.sha256(b"mcc-asana-search-offset:" + token.encode()).digest()
        # Asana has no idempotency keys: we remember key -> (fingerprint, created object) ourselves.
        self._once = CreateOnce(idempotency or InMemoryIdempotency())
        self._custom_field_gids = dict(custom_field_gids or {})

    def __repr__(self) -> str:
        return f"AsanaRestClient(base_url={str(self._http.base_url)!r}, workspace_gid={self._workspace!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    def project_fields(self) -> RestProjectFields:
        """The project custom fields of this client (MCC's tier and budget; see custom_fields.py)."""
        return RestProjectFields(self, self._custom_field_gids)

    async def __aenter__(self) -> AsanaRestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------ transport

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        return random.uniform(0, min(self._backoff_max, self._backoff_base * 2**attempt))

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        safe: bool | None = None,
        fields: Mapping[str, str] | None = None,
        default_field: str | None = None,
    ) -> dict[str, Any]:
        """One API call with rate limiting, retries and error mapping; returns the decoded JSON body."""
        safe = method in ("GET", "PUT", "DELETE") if safe is None else safe
        body = None if data is None else {"data": data}
        attempt = 0
        while True:
            async with self._limiter:
                try:
                    resp = await self._http.request(method, path, params=params, json=body)
                except httpx.TransportError as exc:
                    unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                    log.warning("asana %s %s failed: %s", method, path, type(exc).__name__)
                    resp, failure = None, exc
            if resp is None:
                if (safe or unsent) and attempt < self._max_retries:
                    await self._sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise ServerError(f"Asana unreachable after {attempt + 1} attempts: {type(failure).__name__}")
            log.debug("asana %s %s -> %s", method, path, resp.status_code)
            if resp.status_code == 429:
                wait = retry_after_seconds(resp)
                if attempt < self._max_retries and (wait is None or wait <= self._max_retry_after):
                    await self._sleep(self._backoff(attempt) if wait is None else wait)
                    attempt += 1
                    continue
                raise RateLimited(f"Asana rate limit hit; retry after {wait} s", retry_after=wait)
            if resp.status_code >= 500 and safe and attempt < self._max_retries:
                await self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            if resp.status_code >= 400:
                raise error_from_response(resp, fields or {}, default_field)
            try:
                out = resp.json()
            except ValueError:
                raise ServerError(f"Asana answered {resp.status_code} with a body that is not JSON") from None
            if not isinstance(out, dict) or "data" not in out:
                raise ServerError('Asana answered without a {"data": ...} envelope')
            return out

    async def _one(self, model: type[M], method: str, path: str, opt: str, **kw: Any) -> M:
        out = await self._request(method, path, params={"opt_fields": opt, **kw.pop("params", {})}, **kw)
        return model.model_validate(out["data"])

    async def _page(
        self, model: type[M], path: str, opt: str, params: dict[str, Any], limit: int, offset: str | None, **kw: Any
    ) -> Page[M]:
        check_limit(limit)
        if offset is not None and (not isinstance(offset, str) or not offset):
            raise InvalidArgument("offset", "offset must be the next_page.offset string of a previous page")
        query = {**{k: v for k, v in params.items() if v is not None}, "limit": limit, "opt_fields": opt}
        if offset is not None:
            query["offset"] = offset
        out = await self._request("GET", path, params=query, **kw)
        nxt = out.get("next_page")
        return Page[model](  # type: ignore[valid-type]
            data=[model.model_validate(x) for x in out["data"]],
            next_page=NextPage.model_validate(nxt) if nxt else None,
        )

    def _ws(self, workspace: str | None, field: str = "workspace") -> str:
        ws = workspace or self._workspace
        if ws is None:
            raise InvalidArgument(field, "workspace is required (no default workspace_gid configured)")
        return check_gid(ws, field)

    # ------------------------------------------------------------ projects and sections

    async def check_access(self) -> str:
        """One cheap authenticated call (``GET /users/me``): what ``mcc connect check`` reports; a typed error
        (forbidden for a bad token, upstream_error, ...) otherwise."""
        out = await self._request("GET", "/users/me", params={"opt_fields": "name"}, default_field="token")
        data = out["data"] if isinstance(out["data"], dict) else {}
        return f"token of {data.get('name') or data.get('gid') or 'an Asana user'}"

    async def create_project(
        self, data: ProjectCreate | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Project:
        inp = parse_input(ProjectCreate, data)
        check_dates(inp.start_on, inp.due_on)
        body = inp.model_dump(mode="json", exclude_none=True) | {"workspace": self._ws(inp.workspace)}
        return await self._once.run(
            idempotency_key, "create_project", inp,
            lambda: self._one(Project, "POST", "/projects", PROJECT_FIELDS, data=body),
            lambda prior: self.get_project(prior["gid"]),
        )  # fmt: skip

    async def get_project(self, project_gid: str) -> Project:
        check_gid(project_gid, "project_gid")
        return await self._one(
            Project,
            "GET",
            f"/projects/{project_gid}",
            PROJECT_FIELDS,
            fields={"project": "project_gid"},
            default_field="project_gid",
        )

    async def update_project(self, project_gid: str, changes: ProjectUpdate | Mapping[str, Any]) -> Project:
        check_gid(project_gid, "project_gid")
        upd = parse_input(ProjectUpdate, changes)
        if not upd.model_fields_set:
            raise InvalidArgument("changes", "no fields to change; give at least one of name, notes, due_on, start_on")
        body = upd.model_dump(mode="json", include=upd.model_fields_set)
        return await self._one(
            Project, "PUT", f"/projects/{project_gid}", PROJECT_FIELDS, data=body,
            fields={"project": "project_gid"}, default_field="project_gid",
        )  # fmt: skip

    async def create_section(self, project_gid: str, name: str, *, idempotency_key: str | None = None) -> Section:
        check_gid(project_gid, "project_gid")
        check_text(name, "name", NAME_MAX)
        return await self._once.run(
            idempotency_key, "create_section", [project_gid, name],
            lambda: self._one(Section, "POST", f"/projects/{project_gid}/sections", SECTION_FIELDS,
                              data={"name": name}, fields={"project": "project_gid"}, default_field="project_gid"),
            _parsed(Section),
        )  # fmt: skip

    async def list_sections(self, project_gid: str, *, limit: int = 50, offset: str | None = None) -> Page[Section]:
        check_gid(project_gid, "project_gid")
        return await self._page(
            Section,
            f"/projects/{project_gid}/sections",
            SECTION_FIELDS,
            {},
            limit,
            offset,
            fields={"project": "project_gid"},
            default_field="project_gid",
        )

    # ------------------------------------------------------------ tasks

    async def get_task(self, task_gid: str) -> Task:
        check_gid(task_gid, "task_gid")
        return await self._one(
            Task, "GET", f"/tasks/{task_gid}", TASK_FIELDS, fields={"task": "task_gid"}, default_field="task_gid"
        )

    async def create_task(self, data: TaskCreate | Mapping[str, Any], *, idempotency_key: str | None = None) -> Task:
        inp = parse_input(TaskCreate, data)
        check_dates(inp.start_on, inp.due_on)
        body = inp.model_dump(mode="json", exclude_none=True, exclude={"memberships", "projects"})
        if inp.projects:
            body["projects"] = list(inp.projects)
        if inp.memberships:
            body["memberships"] = [m.model_dump(exclude_none=True) for m in inp.memberships]
        if not (inp.projects or inp.memberships):
            body["workspace"] = self._ws(inp.workspace)
        return await self._once.run(
            idempotency_key, "create_task", inp,
            lambda: self._one(Task, "POST", "/tasks", TASK_FIELDS, data=body),
            lambda prior: self.get_task(prior["gid"]),
        )  # fmt: skip

    async def create_subtask(
        self, parent_gid: str, data: SubtaskCreate | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Task:
        check_gid(parent_gid, "parent_gid")
        inp = parse_input(SubtaskCreate, data)
        check_dates(inp.start_on, inp.due_on)
        return await self._once.run(
            idempotency_key, "create_subtask", [parent_gid, inp],
            lambda: self._one(Task, "POST", f"/tasks/{parent_gid}/subtasks", TASK_FIELDS,
                              data=inp.model_dump(mode="json", exclude_none=True), fields={"parent": "parent_gid"},
                              default_field="parent_gid"),
            lambda prior: self.get_task(prior["gid"]),
        )  # fmt: skip

    async def update_task(self, task_gid: str, changes: TaskUpdate | Mapping[str, Any]) -> Task:
        check_gid(task_gid, "task_gid")
        upd = parse_update(changes)
        body = upd.model_dump(mode="json", include=upd.model_fields_set)
        return await self._one(
            Task,
            "PUT",
            f"/tasks/{task_gid}",
            TASK_FIELDS,
            data=body,
            fields={"task": "task_gid"},
            default_field="task_gid",
        )

    async def add_comment(self, task_gid: str, text: str, *, idempotency_key: str | None = None) -> Story:
        check_gid(task_gid, "task_gid")
        check_text(text, "text", COMMENT_MAX)
        return await self._once.run(
            idempotency_key, "add_comment", [task_gid, text],
            lambda: self._one(Story, "POST", f"/tasks/{task_gid}/stories", STORY_FIELDS, data={"text": text},
                              fields={"task": "task_gid"}, default_field="task_gid"),
            _parsed(Story),
        )  # fmt: skip

    async def search_tasks(
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
        ws = self._ws(workspace)
        if text is not None:
            check_text(text, "text", NAME_MAX)
        if completed is not None and not isinstance(completed, bool):
            raise InvalidArgument("completed", "must be true, false or omitted")
        if assignee is not None:
            check_gid(assignee, "assignee")
        if project is not None:
            check_gid(project, "project")
        scope = hashlib.sha256(json.dumps([ws, text, completed, assignee, project]).encode()).hexdigest()[:16]
        after, skip = decode_search_offset(self._offset_key, offset, scope) if offset is not None else (None, [])
        params: dict[str, Any] = {
            "sort_by": "created_at",
            "sort_ascending": "true",
            "limit": min(100, limit + 1 + len(skip)),
            "opt_fields": TASK_FIELDS,
        }
        if text:
            params["text"] = text
        if completed is not None:
            params["completed"] = "true" if completed else "false"
        if assignee:
            params["assignee.any"] = assignee
        if project:
            params["projects.any"] = project
        if after is not None:  # 1 ms earlier: ties at `after` come back and are skipped by gid
            params["created_at.after"] = (after - dt.timedelta(milliseconds=1)).isoformat()
        out = await self._request(
            "GET",
            f"/workspaces/{ws}/tasks/search",
            params=params,
            fields={"assignee.any": "assignee", "projects.any": "project"},
            default_field="workspace",
        )
        tasks = [t for t in (Task.model_validate(x) for x in out["data"]) if t.gid not in skip]
        if len(tasks) <= limit:
            return Page[Task](data=tasks, next_page=None)
        tasks = tasks[:limit]
        last = tasks[-1].created_at
        same = [t.gid for t in tasks if t.created_at == last] + (skip if last == after else [])
        token = encode_search_offset(self._offset_key, scope, last, same)
        path = f"/workspaces/{ws}/tasks/search?limit={limit}&offset={token}"
        return Page[Task](data=tasks, next_page=NextPage(offset=token, path=path, uri=f"{self._http.base_url}{path}"))

    async def get_user_tasks(
        self,
        user_gid: str,
        *,
        workspace: str | None = None,
        completed_since: dt.datetime | None = None,
        limit: int = 50,
        offset: str | None = None,
    ) -> Page[Task]:
        check_gid(user_gid, "user_gid")
        ws = self._ws(workspace)
        if completed_since is not None and (
            not isinstance(completed_since, dt.datetime) or completed_since.tzinfo is None
        ):
            raise InvalidArgument("completed_since", "must be a timezone-aware datetime")
        params = {
            "assignee": user_gid,
            "workspace": ws,
            "completed_since": completed_since.isoformat() if completed_since else None,
        }
        return await self._page(
            Task,
            "/tasks",
            TASK_FIELDS,
            params,
            limit,
            offset,
            fields={"assignee": "user_gid"},
            default_field="user_gid",
        )

    async def list_projects(
        self, *, workspace: str | None = None, limit: int = 100, offset: str | None = None
    ) -> Page[Project]:
        """A workspace's projects (``GET /projects?workspace=``), paged with Asana's offsets (backfill reads)."""
        ws = self._ws(workspace)
        return await self._page(Project, "/projects", PROJECT_FIELDS, {"workspace": ws}, limit, offset,
                                fields={"workspace": "workspace"}, default_field="workspace")  # fmt: skip

    async def list_project_tasks(self, project_gid: str, *, limit: int = 100, offset: str | None = None) -> Page[Task]:
        """A project's tasks (``GET /tasks?project=``), paged with Asana's offsets (backfill reads)."""
        check_gid(project_gid, "project_gid")
        return await self._page(Task, "/tasks", TASK_FIELDS, {"project": project_gid}, limit, offset,
                                fields={"project": "project_gid"}, default_field="project_gid")  # fmt: skip

    async def list_users(
        self, *, workspace: str | None = None, limit: int = 50, offset: str | None = None
    ) -> Page[User]:
        ws = self._ws(workspace)
        return await self._page(
            User, f"/workspaces/{ws}/users", USER_FIELDS, {}, limit, offset,
            fields={"workspace": "workspace"}, default_field="workspace",
        )  # fmt: skip

    async def add_task_to_section(
        self, section_gid: str, task_gid: str, *, insert_before: str | None = None, insert_after: str | None = None
    ) -> None:
        check_gid(section_gid, "section_gid")
        check_gid(task_gid, "task_gid")
        if insert_before is not None and insert_after is not None:
            raise InvalidArgument("insert_before", "give insert_before or insert_after, not both")
        body = {"task": task_gid}
        for field, value in (("insert_before", insert_before), ("insert_after", insert_after)):
            if value is not None:
                body[field] = check_gid(value, field)
        # Moving a task into a section is idempotent, so this POST may be retried like a PUT.
        await self._request(
            "POST",
            f"/sections/{section_gid}/addTask",
            data=body,
            safe=True,
            fields={"section": "section_gid", "task": "task_gid"},
            default_field="section_gid",
        )


def _parsed(model: type[M]) -> Callable[[dict[str, Any]], Awaitable[M]]:
    """A replay that rebuilds the remembered object (sections and stories: nothing to re-read)."""

    async def replay(prior: dict[str, Any]) -> M:
        return model.model_validate(prior)

    return replay
