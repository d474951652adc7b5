"""A small real HTTP server speaking Asana's published wire format, for testing the REST client.

Independent of mcp_servers.asana: in-memory state, bearer tokens, `{"data": ...}` envelopes, `opt_fields`,
`limit`/opaque `offset` paging with `next_page`, `{"errors": [...]}` bodies, and knobs to inject 429 with
Retry-After, 5xx and delays. Started by the `asana_wire_server` fixture factory on 127.0.0.1 (free port).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.wire import asana_custom_fields as cf

HELP = "For more information on API status codes and how to handle them, read the docs on errors."
FAULT_MESSAGES = {
    402: "The object or mutation in the request is above your current premium level.",
    403: "Forbidden: you do not have access to this object",
    429: "You have made too many requests recently. Please, be chill.",
}
TASK_WRITABLE = {"name", "notes", "assignee", "due_on", "start_on", "completed"}
TASK_CREATE_ONLY = {"workspace", "projects", "memberships"}


class WireError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclasses.dataclass
class Fault:
    status: int
    retry_after: str | None = None
    delay: float = 0.0


class AsanaWireState:
    """In-memory Asana: workspaces, users, teams, projects, sections, tasks, stories."""

    def __init__(self) -> None:
        self._next = 1_200_000_000_000_000
        self.secret = b"wire-offset-secret"
        self.tokens: dict[str, str] = {}
        self.workspaces: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.teams: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        self.sections: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.stories: dict[str, dict[str, Any]] = {}
        self.custom_fields: dict[str, dict[str, Any]] = {}  # gid -> definition (tests/wire/asana_custom_fields.py)
        self.webhooks: dict[str, dict[str, Any]] = {}  # gid -> resource, target, secret (kept to sign deliveries)
        self.fixed_now: dt.datetime | None = None

    def gid(self) -> str:
        self._next += 1
        return str(self._next)

    def now(self) -> dt.datetime:
        t = self.fixed_now or dt.datetime.now(dt.UTC)
        return t.replace(microsecond=t.microsecond // 1000 * 1000)

    def add_workspace(self, name: str) -> str:
        g = self.gid()
        self.workspaces[g] = {"gid": g, "resource_type": "workspace", "name": name}
        return g

    def add_user(self, name: str, email: str, workspace: str, token: str | None = None) -> str:
        g = self.gid()
        self.users[g] = {"gid": g, "resource_type": "user", "name": name, "email": email, "ws": workspace}
        if token:
            self.tokens[token] = g
        return g

    def add_team(self, name: str, workspace: str) -> str:
        g = self.gid()
        self.teams[g] = {"gid": g, "resource_type": "team", "name": name, "ws": workspace}
        return g


def _ts(t: dt.datetime | None) -> str | None:
    return None if t is None else t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _compact(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if obj is None else {"gid": obj["gid"], "resource_type": obj["resource_type"], "name": obj["name"]}


def _project_opt(fields: list[str] | None, full: dict[str, Any]) -> dict[str, Any]:
    if not fields:
        return {k: full[k] for k in ("gid", "resource_type", "name") if k in full}
    out = {"gid": full["gid"], "resource_type": full["resource_type"]}
    for f in fields:
        top = f.split(".")[0]
        if top in full:
            out[top] = full[top]
    return out


class AsanaWireApp:
    """Starlette routes over an AsanaWireState, with fault injection and a request log."""

    def __init__(self, state: AsanaWireState) -> None:
        self.state = state
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        r = Route
        self.app = Starlette(
            routes=[
                r("/api/1.0/projects", self.wrap(self.projects_ep), methods=["GET", "POST"]),
                r("/api/1.0/projects/{gid}", self.wrap(self.get_project), methods=["GET", "PUT"]),
                r("/api/1.0/projects/{gid}/sections", self.wrap(self.sections_ep), methods=["GET", "POST"]),
                r("/api/1.0/sections/{gid}/addTask", self.wrap(self.add_task), methods=["POST"]),
                r("/api/1.0/tasks", self.wrap(self.tasks_ep), methods=["GET", "POST"]),
                r("/api/1.0/tasks/{gid}", self.wrap(self.task_ep), methods=["GET", "PUT"]),
                r("/api/1.0/tasks/{gid}/subtasks", self.wrap(self.create_subtask), methods=["POST"]),
                r("/api/1.0/tasks/{gid}/stories", self.wrap(self.create_story), methods=["POST"]),
                r("/api/1.0/workspaces/{gid}/tasks/search", self.wrap(self.search), methods=["GET"]),
                r("/api/1.0/users/me", self.wrap(self.users_me), methods=["GET"]),
                r("/api/1.0/workspaces/{gid}/users", self.wrap(self.workspace_users), methods=["GET"]),
                r("/api/1.0/webhooks", self.create_webhook, methods=["POST"]),
                r(
                    "/api/1.0/workspaces/{gid}/custom_fields",
                    self.wrap(partial(cf.workspace_fields, self)),
                    methods=["GET"],
                ),
                r("/api/1.0/custom_fields/{gid}", self.wrap(partial(cf.get_field, self)), methods=["GET"]),
                r(
                    "/api/1.0/projects/{gid}/addCustomFieldSetting",
                    self.wrap(partial(cf.add_setting, self)),
                    methods=["POST"],
                ),
            ]
        )

    # ------------------------------------------------------------ plumbing

    def inject(self, status: int, times: int = 1, *, retry_after: str | None = None, delay: float = 0.0) -> None:
        """Answer the next `times` requests with `status` (after `delay` seconds)."""
        self.faults.extend(Fault(status, retry_after, delay) for _ in range(times))

    def wrap(self, handler: Callable[..., Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": dict(request.query_params),
                    "headers": dict(request.headers),
                }
            )
            if self.faults:
                fault = self.faults.pop(0)
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.status >= 400:
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                    msg = FAULT_MESSAGES.get(fault.status, "Server Error")
                    body: dict[str, Any] = {"message": msg, "help": HELP}
                    if fault.status >= 500:
                        body["phrase"] = "6 sad squid snuggle softly"
                    return JSONResponse({"errors": [body]}, fault.status, headers=headers)
            user = self.state.tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
            if user is None:
                return JSONResponse({"errors": [{"message": "Not Authorized", "help": HELP}]}, 401)
            try:
                body_in = None
                if request.method in ("POST", "PUT"):
                    raw = await request.body()
                    try:
                        body_in = json.loads(raw)
                    except ValueError:
                        raise WireError(400, "Could not parse request data, invalid JSON") from None
                    if not isinstance(body_in, dict) or not isinstance(body_in.get("data"), dict):
                        raise WireError(400, 'data: Missing input; send {"data": {...}}')
                    body_in = body_in["data"]
                with self.lock:
                    status, payload = handler(request, user, body_in)
            except WireError as err:
                return JSONResponse({"errors": [{"message": err.message, "help": HELP}]}, err.status)
            return JSONResponse(payload, status)

        return endpoint

    async def create_webhook(self, request: Request) -> Response:
        """POST /webhooks: Asana POSTs the X-Hook-Secret handshake to the target while this request is in
        flight and creates the webhook only when the target echoes the secret (200 or 204)."""
        self.requests.append(
            {"method": "POST", "path": request.url.path, "query": {}, "headers": dict(request.headers)}
        )
        if self.state.tokens.get(request.headers.get("authorization", "").removeprefix("Bearer ")) is None:
            return JSONResponse({"errors": [{"message": "Not Authorized", "help": HELP}]}, 401)
        try:
            data = json.loads(await request.body())["data"]
            resource, target = str(data["resource"]), str(data["target"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"errors": [{"message": "resource: Missing input", "help": HELP}]}, 400)
        found = self.state.projects.get(resource) or self.state.tasks.get(resource)
        if found is None:
            return JSONResponse({"errors": [{"message": "resource: Unknown object: " + resource, "help": HELP}]}, 404)
        secret = hashlib.sha256(f"{resource}{time.monotonic_ns()}".encode()).hexdigest()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(target, headers={"X-Hook-Secret": secret})
        except httpx.HTTPError:
            return JSONResponse({"errors": [{"message": "Could not complete activation handshake with target URL. "
                                             "Unable to connect.", "help": HELP}]}, 400)  # fmt: skip
        if answer.status_code not in (200, 204) or answer.headers.get("X-Hook-Secret") != secret:
            msg = "Could not complete activation handshake with target URL. Please ensure that the receiving server " \
                  "is accepting connections and supports SSL"  # fmt: skip
            return JSONResponse({"errors": [{"message": msg, "help": HELP}]}, 400)
        with self.lock:
            gid = self.state.gid()
            self.state.webhooks[gid] = {"resource": resource, "target": target, "secret": secret}
        body = {"gid": gid, "resource_type": "webhook", "resource": {"gid": resource, "name": found.get("name")},
                "target": target, "active": True}  # fmt: skip
        return JSONResponse({"data": body}, 201)

    def opt(self, request: Request) -> list[str] | None:
        raw = request.query_params.get("opt_fields")
        return raw.split(",") if raw else None

    def limit(self, request: Request) -> int | None:
        raw = request.query_params.get("limit")
        if raw is None:
            return None
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise WireError(400, "limit: The limit must be between 1 and 100")
        return int(raw)

    def page(self, request: Request, items: list[dict[str, Any]], render: Callable[..., Any]) -> dict[str, Any]:
        limit = self.limit(request)
        opt = self.opt(request)
        if limit is None:
            return {"data": [_project_opt(opt, render(i)) for i in items]}
        query = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit")}
        scope = hashlib.sha256(f"{request.url.path}?{sorted(query.items())}".encode()).hexdigest()[:12]
        start = 0
        if "offset" in request.query_params:
            start = self.decode_offset(request.query_params["offset"], scope)
        chunk = items[start : start + limit]
        nxt = None
        if start + limit < len(items):
            raw = json.dumps({"i": start + limit, "q": scope}).encode()
            sig = hmac.new(self.state.secret, raw, hashlib.sha256).hexdigest()[:16]
            token = base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + sig
            qs = "&".join(f"{k}={v}" for k, v in {**query, "limit": limit, "offset": token}.items())
            path = f"{request.url.path.removeprefix('/api/1.0')}?{qs}"
            nxt = {"offset": token, "path": path, "uri": f"{request.base_url}api/1.0{path}"}
        return {"data": [_project_opt(opt, render(i)) for i in chunk], "next_page": nxt}

    def decode_offset(self, token: str, scope: str) -> int:
        bad = WireError(400, "offset: Your pagination token is invalid. Please start over without it.")
        try:
            b64, sig = token.split(".")
            raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
            data = json.loads(raw)
        except ValueError:
            raise bad from None
        want = hmac.new(self.state.secret, raw, hashlib.sha256).hexdigest()[:16]
        if not hmac.compare_digest(want, sig) or data.get("q") != scope:
            raise bad
        return int(data["i"])

    # ------------------------------------------------------------ lookups and renderers

    def find(self, table: dict[str, dict[str, Any]], gid: Any, field: str) -> dict[str, Any]:
        if not isinstance(gid, str) or not gid.isdigit():
            raise WireError(400, f"{field}: Not a valid gid: {gid!r}")
        if gid not in table:
            raise WireError(404, f"{field}: Unknown object: {gid}")
        return table[gid]

    def date(self, body: dict[str, Any], key: str) -> dt.date | None:
        val = body.get(key)
        if val is None:
            return None
        try:
            return dt.date.fromisoformat(val)
        except (TypeError, ValueError):
            raise WireError(400, f"{key}: Invalid date, expected YYYY-MM-DD") from None

    def render_project(self, p: dict[str, Any]) -> dict[str, Any]:
        s = self.state
        return {
            "gid": p["gid"],
            "resource_type": "project",
            "name": p["name"],
            "notes": p["notes"],
            "archived": False,
            "workspace": _compact(s.workspaces[p["ws"]]),
            "team": _compact(s.teams.get(p["team"] or "")),
            "due_on": p["due_on"],
            "start_on": p["start_on"],
            "current_status": None,
            "current_status_update": p.get("status_update"),  # tests set {"gid", "title", "status_type"}
            "completed": p.get("completed", False),
            "completed_at": _ts(p.get("completed_at")),
            "custom_fields": cf.render_values(s, p),
            "created_at": _ts(p["created_at"]),
            "modified_at": _ts(p["modified_at"]),
        }

    def render_section(self, sec: dict[str, Any]) -> dict[str, Any]:
        return {
            "gid": sec["gid"],
            "resource_type": "section",
            "name": sec["name"],
            "project": _compact(self.state.projects[sec["project"]]),
            "created_at": _ts(sec["created_at"]),
        }

    def render_task(self, t: dict[str, Any]) -> dict[str, Any]:
        s = self.state
        mems = [(s.projects[p], s.sections[sec]) for p, sec in t["memberships"].items()]
        return {
            "gid": t["gid"],
            "resource_type": "task",
            "resource_subtype": "default_task",
            "name": t["name"],
            "notes": t["notes"],
            "completed": t["completed"],
            "completed_at": _ts(t["completed_at"]),
            "assignee": _compact(s.users.get(t["assignee"] or "")),
            "due_on": t["due_on"],
            "start_on": t["start_on"],
            "projects": [_compact(p) for p, _ in mems],
            "memberships": [{"project": _compact(p), "section": _compact(sec)} for p, sec in mems],
            "parent": _compact(s.tasks.get(t["parent"] or "")),
            "num_subtasks": sum(1 for x in s.tasks.values() if x["parent"] == t["gid"]),
            "workspace": _compact(s.workspaces[t["ws"]]),
            "custom_fields": [],
            "created_at": _ts(t["created_at"]),
            "modified_at": _ts(t["modified_at"]),
        }

    # ------------------------------------------------------------ handlers

    def projects_ep(self, request: Request, user: str, body: Any) -> tuple[int, Any]:
        if request.method == "POST":
            return self.create_project(request, user, body)
        if "workspace" not in request.query_params:
            raise WireError(400, "workspace: Must specify a workspace or team")
        ws = self.find(self.state.workspaces, request.query_params["workspace"], "workspace")["gid"]
        items = [p for p in self.state.projects.values() if p["ws"] == ws]
        return 200, self.page(request, items, self.render_project)

    def create_project(self, request: Request, user: str, body: dict[str, Any]) -> tuple[int, Any]:
        s = self.state
        unknown = set(body) - {"name", "notes", "workspace", "team", "due_on", "start_on"}
        if unknown:
            raise WireError(400, f"{sorted(unknown)[0]}: Unknown property")
        if not body.get("name"):
            raise WireError(400, "name: Missing input")
        due, start = self.date(body, "due_on"), self.date(body, "start_on")
        if due and start and start > due:
            raise WireError(400, "start_on: Start date must be on or before due date")
        if "workspace" not in body:
            raise WireError(400, "workspace: Missing input")
        ws = self.find(s.workspaces, body["workspace"], "workspace")["gid"]
        team = body.get("team")
        if team is not None and self.find(s.teams, team, "team")["ws"] != ws:
            raise WireError(400, f"team: Team {team} is not in workspace {ws}")
        now, g = s.now(), s.gid()
        s.projects[g] = {
            "gid": g,
            "resource_type": "project",
            "name": body["name"],
            "notes": body.get("notes", ""),
            "ws": ws,
            "team": team,
            "due_on": body.get("due_on"),
            "start_on": body.get("start_on"),
            "created_at": now,
            "modified_at": now,
        }
        sg = s.gid()
        s.sections[sg] = {
            "gid": sg,
            "resource_type": "section",
            "name": "Untitled section",
            "project": g,
            "created_at": now,
        }
        return 201, {"data": _project_opt(self.opt(request), self.render_project(s.projects[g]))}

    def render_user(self, u: dict[str, Any], opt: list[str] | None = None) -> dict[str, Any]:
        full = {"gid": u["gid"], "resource_type": "user", "name": u["name"], "email": u["email"]}
        return {k: v for k, v in full.items() if k in ("gid", "resource_type", "name") or (opt and k in opt)}

    def users_me(self, request: Request, user: str, body: Any) -> tuple[int, Any]:
        return 200, {"data": self.render_user(self.state.users[user], self.opt(request))}

    def workspace_users(self, request: Request, user: str, body: Any) -> tuple[int, Any]:
        ws = self.find(self.state.workspaces, request.path_params["gid"], "workspace")
        items = sorted((u for u in self.state.users.values() if u["ws"] == ws["gid"]), key=lambda u: u["gid"])
        opt = self.opt(request)  # email only when opt_fields asks for it, as Asana answers
        return 200, self.page(request, items, lambda u: self.render_user(u, opt))

    def get_project(self, request: Request, user: str, body: Any) -> tuple[int, Any]:
        p = self.find(self.state.projects, request.path_params["gid"], "project")
        if request.method == "PUT":
            self.update_project(p, body)
        return 200, {"data": _project_opt(self.opt(request), self.render_project(p))}

    def update_project(self, p: dict[str, Any], body: dict[str, Any]) -> None:
        unknown = set(body) - {"name", "notes", "due_on", "start_on", "custom_fields"}
        if unknown:
            raise WireError(400, f"{sorted(unknown)[0]}: Unknown property")
        if "custom_fields" in body:
            cf.set_values(self.state, p, body.pop("custom_fields"))
        due = self.date(body, "due_on") if "due_on" in body else (p["due_on"] and dt.date.fromisoformat(p["due_on"]))
        start = (
            self.date(body, "start_on")
            if "start_on" in body
            else (p["start_on"] and dt.date.fromisoformat(p["start_on"]))
        )
        if due and start and start > due:
            raise WireError(400, "start_on: Start date must be on or before due date")
        p.update(body)
        p["modified_at"] = self.state.now()

    def sections_ep(self, request: Request, user: str, body: Any) -> tuple[int, Any]:
        s = self.state
        p = self.find(s.projects, request.path_params["gid"], "project")
        if request.method == "GET":
            items = [x for x in s.sections.values() if x["project"] == p["gid"]]
            return 200, self.page(request, items, self.render_section)
        if not body.get("name") or set(body) - {"name"}:
            raise WireError(400, "name: Missing input")
        g = s.gid()
        s.sections[g] = {
            "gid": g,
            "resource_type": "section",
            "name": body["name"],
            "project": p["gid"],
            "created_at": s.now(),
        }
        return 201, {"data": _project_opt(self.opt(request), self.render_section(s.sections[g]))}

    def add_task(self, request: Request, user: str, body: dict[str, Any]) -> tuple[int, Any]:
        s = self.state
        sec = self.find(s.sections, request.path_params["gid"], "section")
        task = self.find(s.tasks, body.get("task"), "task")
        if body.get("insert_before") and body.get("insert_after"):
            raise WireError(400, "insert_before: Only one of insert_before and insert_after may be given")
        for key in ("insert_before", "insert_after"):
            other = body.get(key)
            if other is not None and (
                other == task["gid"]
                or other not in s.tasks
                or s.tasks[other]["memberships"].get(sec["project"]) != sec["gid"]
            ):
                raise WireError(400, f"{key}: Task {other} is not in section {sec['gid']}")
        if s.projects[sec["project"]]["ws"] != task["ws"]:
            raise WireError(400, "task: Task is not in the section's workspace")
        task["memberships"][sec["project"]] = sec["gid"]
        task["modified_at"] = s.now()
        return 200, {"data": {}}

    def task_ep(self, request: Request, user: str, body: Any) -> tuple[int, Any]:
        s = self.state
        t = self.find(s.tasks, request.path_params["gid"], "task")
        if request.method == "PUT":
            for key in body:
                if key in TASK_CREATE_ONLY or key == "parent":
                    raise WireError(400, f"{key}: Cannot write this property after creation")
                if key not in TASK_WRITABLE:
                    raise WireError(400, f"{key}: Unknown property")
            due = self.date(body, "due_on") if "due_on" in body else self.date(t, "due_on")
            start = self.date(body, "start_on") if "start_on" in body else self.date(t, "start_on")
            if due and start and start > due:
                blame = "start_on" if "start_on" in body else "due_on"
                raise WireError(400, f"{blame}: Start date must be on or before due date")
            if body.get("assignee") is not None:
                self.find(s.users, body["assignee"], "assignee")
            now = s.now()
            for key, val in body.items():
                t[key] = val
            if "completed" in body:
                t["completed_at"] = now if body["completed"] else None
            t["modified_at"] = now
        return 200, {"data": _project_opt(self.opt(request), self.render_task(t))}

    def _new_task(self, body: dict[str, Any], ws: str, parent: str | None) -> dict[str, Any]:
        s = self.state
        for key in body:
            if key not in TASK_WRITABLE | TASK_CREATE_ONLY:
                raise WireError(400, f"{key}: Unknown property")
        if not body.get("name"):
            raise WireError(400, "name: Missing input")
        due, start = self.date(body, "due_on"), self.date(body, "start_on")
        if due and start and start > due:
            raise WireError(400, "start_on: Start date must be on or before due date")
        if body.get("assignee") is not None and self.find(s.users, body["assignee"], "assignee")["ws"] != ws:
            raise WireError(400, "assignee: User is not in the task's workspace")
        now, g = s.now(), s.gid()
        return {
            "gid": g,
            "resource_type": "task",
            "name": body["name"],
            "notes": body.get("notes", ""),
            "completed": bool(body.get("completed")),
            "completed_at": now if body.get("completed") else None,
            "assignee": body.get("assignee"),
            "due_on": body.get("due_on"),
            "start_on": body.get("start_on"),
            "ws": ws,
            "parent": parent,
            "memberships": {},
            "created_at": now,
            "modified_at": now,
        }

    def tasks_ep(self, request: Request, user: str, body: Any) -> tuple[int, Any]:
        s = self.state
        if request.method == "GET":
            q = request.query_params
            if "project" in q:  # a project's tasks (GET /tasks?project=), in the order they were added
                pg = self.find(s.projects, q["project"], "project")["gid"]
                return 200, self.page(
                    request, [t for t in s.tasks.values() if pg in t["memberships"]], self.render_task
                )
            if "assignee" not in q or "workspace" not in q:
                raise WireError(
                    400, "assignee: Must specify exactly one of project, tag, section, or assignee + workspace"
                )
            ws = self.find(s.workspaces, q["workspace"], "workspace")["gid"]
            who = self.find(s.users, q["assignee"], "assignee")["gid"]
            items = [t for t in s.tasks.values() if t["assignee"] == who and t["ws"] == ws]
            if "completed_since" in q:
                raw = q["completed_since"]
                since = s.now() if raw == "now" else dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
                items = [t for t in items if not t["completed"] or t["completed_at"] >= since]
            return 200, self.page(request, items, self.render_task)
        places: list[tuple[str, str, str | None]] = [
            ("memberships", m.get("project"), m.get("section")) for m in body.get("memberships") or []
        ]
        places += [("projects", p, None) for p in body.get("projects") or []]
        resolved: dict[str, str] = {}
        for field, pg, sg in places:
            p = self.find(s.projects, pg, field)
            if p["gid"] in resolved:
                raise WireError(400, f"{field}: Duplicate project {pg}")
            if sg is None:
                sg = next(x["gid"] for x in s.sections.values() if x["project"] == p["gid"])
            elif self.find(s.sections, sg, field)["project"] != p["gid"]:
                raise WireError(400, f"{field}: Section {sg} is not in project {pg}")
            resolved[p["gid"]] = sg
        ws = body.get("workspace") or (s.projects[next(iter(resolved))]["ws"] if resolved else None)
        if ws is None:
            raise WireError(400, "workspace: Missing input")
        self.find(s.workspaces, ws, "workspace")
        if any(s.projects[p]["ws"] != ws for p in resolved):
            raise WireError(400, "projects: Project is not in the task's workspace")
        t = self._new_task(body, ws, None)
        t["memberships"] = resolved
        s.tasks[t["gid"]] = t
        return 201, {"data": _project_opt(self.opt(request), self.render_task(t))}

    def create_subtask(self, request: Request, user: str, body: dict[str, Any]) -> tuple[int, Any]:
        parent = self.find(self.state.tasks, request.path_params["gid"], "parent")
        if set(body) & TASK_CREATE_ONLY:
            raise WireError(400, f"{sorted(set(body) & TASK_CREATE_ONLY)[0]}: Unknown property")
        t = self._new_task(body, parent["ws"], parent["gid"])
        self.state.tasks[t["gid"]] = t
        return 201, {"data": _project_opt(self.opt(request), self.render_task(t))}

    def create_story(self, request: Request, user: str, body: dict[str, Any]) -> tuple[int, Any]:
        s = self.state
        t = self.find(s.tasks, request.path_params["gid"], "task")
        if not isinstance(body.get("text"), str) or not body["text"]:
            raise WireError(400, "text: Missing input")
        g = s.gid()
        story = {
            "gid": g,
            "resource_type": "story",
            "type": "comment",
            "resource_subtype": "comment_added",
            "text": body["text"],
            "created_at": _ts(s.now()),
            "created_by": _compact(s.users[user]),
            "target": _compact({**t, "resource_type": "task"}),
        }
        s.stories[g] = story
        return 201, {"data": _project_opt(self.opt(request), story)}

    def search(self, request: Request, user: str, body: Any) -> tuple[int, Any]:
        s = self.state
        q = request.query_params
        ws = self.find(s.workspaces, request.path_params["gid"], "workspace")["gid"]
        if "offset" in q:
            raise WireError(400, "offset: Search does not support pagination; sort by created_at instead")
        items = [t for t in s.tasks.values() if t["ws"] == ws]
        if q.get("text"):
            needle = q["text"].lower()
            items = [t for t in items if needle in t["name"].lower() or needle in t["notes"].lower()]
        if "completed" in q:
            items = [t for t in items if t["completed"] == (q["completed"] == "true")]
        if "assignee.any" in q:
            who = {self.find(s.users, g, "assignee.any")["gid"] for g in q["assignee.any"].split(",")}
            items = [t for t in items if t["assignee"] in who]
        if "projects.any" in q:
            projs = {self.find(s.projects, g, "projects.any")["gid"] for g in q["projects.any"].split(",")}
            items = [t for t in items if projs & set(t["memberships"])]
        if "created_at.after" in q:
            after = dt.datetime.fromisoformat(q["created_at.after"].replace("Z", "+00:00"))
            items = [t for t in items if t["created_at"] > after]
        if q.get("sort_by") == "created_at":
            items.sort(key=lambda t: t["created_at"], reverse=q.get("sort_ascending") != "true")
        limit = self.limit(request) or 100
        return 200, {"data": [_project_opt(self.opt(request), self.render_task(t)) for t in items[:limit]]}


class AsanaWireServer:
    """uvicorn running an AsanaWireApp in a thread on 127.0.0.1 at a free port."""

    def __init__(self) -> None:
        self.state = AsanaWireState()
        self.wire = AsanaWireApp(self.state)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/api/1.0"
        config = uvicorn.Config(self.wire.app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.wire.requests

    def inject(self, status: int, times: int = 1, *, retry_after: str | None = None, delay: float = 0.0) -> None:
        self.wire.inject(status, times, retry_after=retry_after, delay=delay)

    def deliver(self, webhook_gid: str, events: list[dict[str, Any]]) -> httpx.Response:
        """POST events to a webhook's target signed with its secret, as Asana does."""
        hook = self.state.webhooks[webhook_gid]
        body = json.dumps({"events": events}).encode()
        signature = hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
        return httpx.post(hook["target"], content=body, headers={"X-Hook-Signature": signature}, timeout=10)

    def start(self) -> AsanaWireServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("Asana wire server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()


@pytest.fixture
def asana_wire_server() -> Iterator[Callable[[], AsanaWireServer]]:
    """Factory fixture: each call starts a fresh server; all are stopped at teardown."""
    started: list[AsanaWireServer] = []

    def start() -> AsanaWireServer:
        server = AsanaWireServer().start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
