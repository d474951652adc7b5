"""A small real Workfront-like HTTP server for wire tests of the REST client.

Speaks the published ``/attask/api/v{N}/`` format: ``sessionID`` or ``Authorization: Bearer`` auth,
``GET /{obj}/{ID}``, ``GET /{obj}/search`` (``_Mod``/``_Range`` filters, ``$$FIRST``/``$$LIMIT``,
``fields=``, ``ID_Sort``), ``GET /{obj}/count``, ``POST /{obj}`` and ``PUT /{obj}/{ID}`` with
``updates=<JSON>``, ``{"data": ...}`` answers and ``{"error": {"class", "message", "title"}}`` errors.
Dates go out in Workfront's ``2026-03-02T09:00:00:000-0600`` style. State is in memory.

Deliberately independent of ``mcp_servers.workfront`` (it must not share code with the sandbox), and it
has knobs for failure injection: ``fail_next`` (e.g. 429 with Retry-After, 500), ``delay_seconds`` and
``hold_after_write_seconds`` / ``write_gate`` (apply a POST/PUT, then hold the answer for that long, or until the
test sets the gate: a client killed meanwhile never hears back).
Run it with the ``workfront_wire`` fixture (uvicorn in a thread on 127.0.0.1, free port).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "wire-test-session-0123456789"
ALIASES = {"PROJECT": "PROJ", "ISSUE": "OPTASK", "TEAM": "TEAMOB", "PORTFOLIO": "PORT", "TEMPLATE": "TMPL"}
CODES = {"PROJ", "TASK", "OPTASK", "NOTE", "USER", "TEAMOB", "PORT", "TMPL"}
PROJECT_STATUS = {"CUR", "PLN", "ONH", "CPL", "DED", "REQ", "APR", "REJ", "IDA"}
TASK_STATUS = {"NEW", "INP", "CPL", "CPA", "CPI"}
DATE_FIELDS = {"plannedStartDate", "plannedCompletionDate"}
WRITABLE = {
    "PROJ": {"name", "description", "status", "plannedStartDate", "plannedCompletionDate", "portfolioID"}
    | {"templateID", "ownerID", "extRefID"},
    "TASK": {"name", "description", "status", "plannedStartDate", "plannedCompletionDate", "projectID"}
    | {"assignedToID", "percentComplete", "workRequired", "parentID", "extRefID"},
    "OPTASK": {"name", "description", "status", "projectID", "priority", "assignedToID", "extRefID"},
    "NOTE": {"noteText", "noteObjCode", "objID"},
}
WIRE_TZ = timezone(timedelta(hours=-6))


@dataclass
class Injected:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str]
    method: str | None = None  # only a request of this method draws it
    after: bool = False  # apply the request, then answer the failure (the client cannot tell it happened)

    def response(self) -> JSONResponse:
        body = self.body or {"error": {"class": "com.attask.Injected", "message": f"HTTP {self.status}", "title": ""}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


@dataclass
class Seen:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    at: float


@dataclass
class WireState:
    """In-memory Workfront data plus failure knobs and a request log (thread-safe enough for tests)."""

    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    templates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=lambda: {TOKEN})
    injected: deque[Injected] = field(default_factory=deque)
    delay_seconds: float = 0.0
    hold_after_write_seconds: float = 0.0
    write_gate: threading.Event | None = None
    seen: list[Seen] = field(default_factory=list)
    subscriptions: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> objCode, eventType, url, authToken

    def reset(self) -> None:
        self.objects = {code: {} for code in CODES}
        self.templates = {}
        self.tokens = {TOKEN}
        self.injected.clear()
        self.delay_seconds = 0.0
        self.hold_after_write_seconds = 0.0
        self.write_gate = None
        self.seen.clear()
        self.subscriptions = {}

    def fail_next(
        self, status: int, times: int = 1, retry_after: str | None = None, body: dict[str, Any] | None = None,
        *, method: str | None = None, after: bool = False,
    ) -> None:  # fmt: skip
        """Answer the next ``times`` requests (of ``method`` only, when given) with ``status``; ``after``: only
        once the request was applied."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        for _ in range(times):
            self.injected.append(Injected(status, body, headers, method, after))

    def take(self, method: str) -> Injected | None:
        """The first injected failure this request draws, removed from the queue."""
        for inj in self.injected:
            if inj.method is None or inj.method == method:
                self.injected.remove(inj)
                return inj
        return None

    def load(self, users: list[dict], teams: list[dict], portfolios: list[dict], templates: list[dict]) -> None:
        """Reference data as plain Workfront dicts; templates carry a ``tasks`` list."""
        for code, rows in (("USER", users), ("TEAMOB", teams), ("PORT", portfolios)):
            for row in rows:
                self.objects[code][row["ID"]] = {**row, "objCode": code}
        for tpl in templates:
            self.objects["TMPL"][tpl["ID"]] = {"ID": tpl["ID"], "name": tpl["name"], "objCode": "TMPL"}
            self.templates[tpl["ID"]] = list(tpl.get("tasks", []))

    def requests(self, method: str | None = None, path_part: str = "") -> list[Seen]:
        return [s for s in self.seen if (method is None or s.method == method) and path_part in s.path]


def _error(status: int, cls: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"class": cls, "message": message, "title": message}}, status_code=status)


def _not_found(code: str, obj_id: str) -> JSONResponse:
    return _error(404, "com.attask.common.NotFoundException", f"{code} with ID {obj_id} was not found")


def _bad(message: str) -> JSONResponse:
    return _error(422, "java.lang.IllegalArgumentException", message)


def _wire_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in DATE_FIELDS:
        return f"{value}T09:00:00:000-0600"
    if name in ("entryDate", "lastUpdateDate"):
        local = value.astimezone(WIRE_TZ)
        return local.strftime("%Y-%m-%dT%H:%M:%S:") + f"{local.microsecond // 1000:03d}-0600"
    return value


def _render(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    names = fields if fields else [k for k in obj if k != "parameterValues"]
    out = {"ID": obj["ID"], "objCode": obj["objCode"]}
    if "name" in obj:
        out["name"] = obj["name"]
    for name in names:
        if name.startswith("DE:"):
            out[name] = obj.get("parameterValues", {}).get(name)
        else:
            out[name] = _wire_value(name, obj.get(name))
    return out


def _matches(obj: dict[str, Any], name: str, op: str, values: list[str], upper: str | None) -> bool:
    raw = obj.get("parameterValues", {}).get(name) if name.startswith("DE:") else obj.get(name)
    if op == "isnull":
        return raw is None
    if op == "notnull":
        return raw is not None
    if raw is None:
        return False
    value: Any = raw
    vals: list[Any] = list(values)
    if isinstance(raw, datetime):
        value = raw.isoformat()
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        value = str(raw)
    else:
        vals = [float(v) for v in values]
        upper = float(upper) if upper is not None else None  # type: ignore[assignment]
    first = vals[0] if vals else None
    checks = {
        "eq": lambda: value == first,
        "ne": lambda: value != first,
        "cieq": lambda: str(value).lower() == str(first).lower(),
        "cine": lambda: str(value).lower() != str(first).lower(),
        "gt": lambda: value > first,
        "gte": lambda: value >= first,
        "lt": lambda: value < first,
        "lte": lambda: value <= first,
        "contains": lambda: str(first) in str(value),
        "notcontains": lambda: str(first) not in str(value),
        "cicontains": lambda: str(first).lower() in str(value).lower(),
        "cinotcontains": lambda: str(first).lower() not in str(value).lower(),
        "in": lambda: value in vals,
        "notin": lambda: value not in vals,
        "between": lambda: first <= value <= upper,
        "notbetween": lambda: not first <= value <= upper,
    }
    if op not in checks:
        raise ValueError(f"unknown modifier {op}")
    return bool(checks[op]())


class WireApp:
    """The Starlette app over a ``WireState``."""

    def __init__(self, state: WireState) -> None:
        self.state = state
        self.app = Starlette(
            routes=[
                Route("/attask/api/{version}/{rest:path}", self.handle, methods=["GET", "POST", "PUT", "DELETE"]),
                Route("/attask/eventsubscription/api/v1/subscriptions", self.subscribe, methods=["POST"]),
            ]
        )

    async def subscribe(self, request: Request) -> JSONResponse:
        """Event Subscription API: exactly objCode, eventType, url, authToken (objId optional); 201 with the id in
        Location, 409 for a duplicate, 400 for a missing or extra field; a sessionID (or bearer) is required."""
        st = self.state
        headers = {k.lower(): v for k, v in request.headers.items()}
        st.seen.append(Seen("POST", request.url.path, [], headers, time.monotonic()))
        bearer = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if headers.get("sessionid") not in st.tokens and bearer not in st.tokens:
            return _error(401, "com.attask.common.AuthenticationException", "You are not currently logged in")
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError:
            return _bad("body is not JSON")
        required, allowed = {"objCode", "eventType", "url", "authToken"}, {"objCode", "eventType", "url", "authToken",
                                                                           "objId"}  # fmt: skip
        if not isinstance(body, dict) or not required <= set(body) or not set(body) <= allowed:
            return _bad(f"a subscription needs exactly {sorted(required)} (objId optional)")
        if body["eventType"] not in ("CREATE", "UPDATE", "DELETE") or body["objCode"] not in CODES:
            return _bad("unknown objCode or eventType")
        key = {k: str(body[k]) for k in ("objCode", "eventType", "url")}
        if any({k: v[k] for k in key} == key for v in st.subscriptions.values()):
            return _error(409, "com.attask.eventsubscription.Conflict", "subscription already exists")
        sub_id = uuid.uuid4().hex
        st.subscriptions[sub_id] = {**key, "authToken": str(body["authToken"])}
        location = f"{request.base_url}attask/eventsubscription/api/v1/subscriptions/{sub_id}"
        return JSONResponse(None, status_code=201, headers={"Location": location})

    async def handle(self, request: Request) -> JSONResponse:
        st = self.state
        params = list(request.query_params.multi_items())
        if request.method in ("POST", "PUT"):
            # Form bodies parsed by hand: no python-multipart dependency for a test server.
            params += parse_qsl((await request.body()).decode(), keep_blank_values=True)
        headers = {k.lower(): v for k, v in request.headers.items()}
        st.seen.append(Seen(request.method, request.url.path, params, headers, time.monotonic()))
        inj = st.take(request.method)
        if inj is not None and not inj.after:
            return inj.response()
        served = await self._serve(request, params, headers)
        return inj.response() if inj is not None else served

    async def _serve(self, request: Request, params: list[tuple[str, str]], headers: dict[str, str]) -> JSONResponse:
        st = self.state
        if st.delay_seconds:
            await asyncio.sleep(st.delay_seconds)
        bearer = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if headers.get("sessionid") not in st.tokens and bearer not in st.tokens:
            return _error(401, "com.attask.common.AuthenticationException", "You are not currently logged in")
        parts = [p for p in request.path_params["rest"].split("/") if p]
        code = ALIASES.get(parts[0].upper(), parts[0].upper()) if parts else ""
        if code not in CODES:
            return _bad(f"unknown objCode {parts[:1]}")
        q: dict[str, list[str]] = {}
        for k, v in params:
            q.setdefault(k, []).append(v)
        fields = [f for f in ",".join(q.get("fields", [])).split(",") if f and f != "*"] or None
        rest = parts[1:]
        if request.method == "GET" and rest in (["search"], ["count"]):
            return self.search(code, q, fields, count_only=rest == ["count"])
        if request.method == "GET" and len(rest) == 1:
            obj = st.objects[code].get(rest[0])
            return JSONResponse({"data": _render(obj, fields)}) if obj else _not_found(code, rest[0])
        if request.method in ("POST", "PUT"):
            try:
                updates = json.loads(q.get("updates", ["{}"])[0])
            except json.JSONDecodeError:
                return _bad("updates is not valid JSON")
            if not isinstance(updates, dict):
                return _bad("updates must be an object")
            answer = None
            if request.method == "POST" and not rest:
                answer = self.create(code, updates, fields)
            elif request.method == "PUT" and len(rest) == 1:
                answer = self.update(code, rest[0], updates, fields)
            if answer is not None:
                if st.hold_after_write_seconds:
                    await asyncio.sleep(st.hold_after_write_seconds)
                while st.write_gate is not None and not st.write_gate.is_set():
                    await asyncio.sleep(0.01)
                return answer
        return _error(405, "com.attask.common.MethodNotAllowed", f"{request.method} not supported here")

    def search(self, code: str, q: dict[str, list[str]], fields: list[str] | None, count_only: bool) -> JSONResponse:
        limit = int(q.get("$$LIMIT", ["100"])[0])
        first = int(q.get("$$FIRST", ["0"])[0])
        if limit > 2000 or limit < 1 or first < 0:
            return _bad("$$LIMIT must be 1..2000 and $$FIRST >= 0")
        skip = {"fields", "updates", "method", "sessionID", "apiKey", "$$LIMIT", "$$FIRST"}
        filters = [k for k in q if k not in skip and not k.endswith(("_Mod", "_Range", "_Sort"))]
        rows = list(self.state.objects[code].values())
        try:
            for name in filters:
                op = q.get(f"{name}_Mod", ["eq"])[0]
                upper = q.get(f"{name}_Range", [None])[0]
                rows = [r for r in rows if _matches(r, name, op, q[name], upper)]
            for name in [k for k in q if k.endswith("_Mod") and q[k][0] in ("isnull", "notnull")]:
                if name[:-4] not in filters:
                    rows = [r for r in rows if _matches(r, name[:-4], q[name][0], [], None)]
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        if count_only:
            return JSONResponse({"data": {"count": len(rows)}})
        rows.sort(key=lambda r: r["ID"], reverse=q.get("ID_Sort", ["asc"])[0] == "desc")
        return JSONResponse({"data": [_render(r, fields) for r in rows[first : first + limit]]})

    def _check(self, code: str, updates: dict[str, Any]) -> JSONResponse | None:
        for key, value in updates.items():
            if key.startswith("DE:") and code == "PROJ":
                continue
            if key not in WRITABLE[code]:
                return _bad(f"{code} has no writable field {key}")
            if key in DATE_FIELDS and value is not None:
                try:
                    date.fromisoformat(str(value)[:10])
                except ValueError:
                    return _bad(f"{key} is not a date")
        allowed = {"PROJ": PROJECT_STATUS, "TASK": TASK_STATUS}.get(code)
        if "status" in updates and allowed is not None and updates["status"] not in allowed:
            return _bad(f"invalid status {updates['status']}")
        refs = {"projectID": "PROJ", "assignedToID": "USER", "ownerID": "USER", "portfolioID": "PORT"}
        refs |= {"templateID": "TMPL", "parentID": "TASK"}
        for key, ref in refs.items():
            if updates.get(key) is not None and updates[key] not in self.state.objects[ref]:
                return _not_found(ref, updates[key])
        if code == "NOTE":
            target = self.state.objects.get(str(updates.get("noteObjCode")), {}).get(updates.get("objID"))
            if target is None:
                return _not_found(str(updates.get("noteObjCode")), str(updates.get("objID")))
        return None

    def create(self, code: str, updates: dict[str, Any], fields: list[str] | None) -> JSONResponse:
        if code not in WRITABLE:
            return _bad(f"cannot create {code} here")
        problem = self._check(code, updates)
        if problem:
            return problem
        objs = self.state.objects
        obj: dict[str, Any] = {k: v for k, v in updates.items() if not k.startswith("DE:")}
        obj |= {"ID": uuid.uuid4().hex, "objCode": code}
        if code == "PROJ":
            start = str(updates.get("plannedStartDate") or datetime.now(UTC).date().isoformat())[:10]
            obj |= {"status": "PLN", "percentComplete": 0.0, "plannedStartDate": start}
            obj["parameterValues"] = {k: v for k, v in updates.items() if k.startswith("DE:")}
            end = date.fromisoformat(start)
            objs["PROJ"][obj["ID"]] = obj
            for spec in self.state.templates.get(updates.get("templateID") or "", []):
                t_start = date.fromisoformat(start) + timedelta(days=spec.get("startOffsetDays", 0))
                t_end = t_start + timedelta(days=max(spec.get("durationDays", 1), 1) - 1)
                end = max(end, t_end)
                work = spec.get("workRequired", 0)
                self._new_task(obj["ID"], spec["name"], t_start.isoformat(), t_end.isoformat(), work)
            obj["plannedCompletionDate"] = str(updates.get("plannedCompletionDate") or end.isoformat())[:10]
            self._rollup(obj["ID"])
        elif code == "TASK":
            project = objs["PROJ"][updates["projectID"]]
            start = updates.get("plannedStartDate") or project["plannedStartDate"]
            end = updates.get("plannedCompletionDate") or start
            task = self._new_task(project["ID"], updates.get("name", ""), start, end, updates.get("workRequired", 0))
            skip = ("ID", "objCode", "plannedStartDate", "plannedCompletionDate")
            task |= {k: v for k, v in obj.items() if k not in skip}
            self._rollup(project["ID"])
            obj = task
        elif code == "OPTASK":
            obj |= {"status": "NEW", "priority": updates.get("priority", 2)}
            objs[code][obj["ID"]] = obj
        else:
            obj["entryDate"] = datetime.now(UTC)
            objs[code][obj["ID"]] = obj
        return JSONResponse({"data": _render(obj, fields)})

    def _new_task(self, project_id: str, name: str, start: str, end: str, work: int) -> dict[str, Any]:
        task = {
            "ID": uuid.uuid4().hex,
            "objCode": "TASK",
            "projectID": project_id,
            "name": name,
            "status": "NEW",
            "percentComplete": 0.0,
            "plannedStartDate": start[:10],
            "plannedCompletionDate": end[:10],
            "workRequired": work,
            "assignedToID": None,
            "description": None,
            "parentID": None,
        }
        self.state.objects["TASK"][task["ID"]] = task
        return task

    def _rollup(self, project_id: str) -> None:
        tasks = [t for t in self.state.objects["TASK"].values() if t["projectID"] == project_id]
        work = sum(t.get("workRequired") or 0 for t in tasks)
        if not tasks:
            pct = 0.0
        elif work:
            pct = sum(t["percentComplete"] * (t.get("workRequired") or 0) for t in tasks) / work
        else:
            pct = sum(t["percentComplete"] for t in tasks) / len(tasks)
        self.state.objects["PROJ"][project_id]["percentComplete"] = round(pct, 2)

    def update(self, code: str, obj_id: str, updates: dict[str, Any], fields: list[str] | None) -> JSONResponse:
        obj = self.state.objects.get(code, {}).get(obj_id)
        if obj is None:
            return _not_found(code, obj_id)
        if code not in WRITABLE:
            return _bad(f"cannot update {code} here")
        problem = self._check(code, updates)
        if problem:
            return problem
        for key, value in updates.items():
            if key.startswith("DE:"):
                obj.setdefault("parameterValues", {})[key] = value
            else:
                obj[key] = str(value)[:10] if key in DATE_FIELDS and value else value
        if code == "TASK":
            if "percentComplete" in updates:
                pct = float(updates["percentComplete"])
                obj["percentComplete"] = pct
                if pct >= 100:
                    obj["status"] = "CPL"
                elif pct > 0 and obj["status"] == "NEW":
                    obj["status"] = "INP"
            if updates.get("status") == "CPL":
                obj["percentComplete"] = 100.0
            elif updates.get("status") == "NEW":
                obj["percentComplete"] = 0.0
            self._rollup(obj["projectID"])
        return JSONResponse({"data": _render(obj, fields)})


class WorkfrontWireServer:
    """Runs ``WireApp`` with uvicorn in a background thread on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        self.state = WireState()
        self.state.reset()
        self.app = WireApp(self.state).app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("workfront wire server did not start")
            time.sleep(0.01)

    def emit(self, event_type: str, code: str, new: dict[str, Any] | None, old: dict[str, Any] | None,
             at: datetime | None = None) -> list[int]:  # fmt: skip
        """Send one event message to every matching subscription (authToken as the bearer token); statuses."""
        import httpx

        when = at or datetime.now(UTC)
        body: dict[str, Any] = {"eventType": event_type, "eventTime": {"epochSecond": int(when.timestamp()),
                                                                       "nano": when.microsecond * 1000}}  # fmt: skip
        if new is not None:
            body["newState"] = {"objCode": code, **new}
        if old is not None:
            body["oldState"] = {"objCode": code, **old}
        statuses = []
        for sub_id, sub in self.state.subscriptions.items():
            if (sub["objCode"], sub["eventType"]) == (code, event_type):
                msg = json.dumps({**body, "subscriptionId": sub_id}).encode()
                headers = {"Authorization": f"Bearer {sub['authToken']}", "Content-Type": "application/json"}
                statuses.append(httpx.post(sub["url"], content=msg, headers=headers, timeout=10).status_code)
        return statuses

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def workfront_wire_server() -> Iterator[WorkfrontWireServer]:
    """One server for the session; use ``workfront_wire`` for a clean state per test."""
    server = WorkfrontWireServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def workfront_wire(workfront_wire_server: WorkfrontWireServer) -> WorkfrontWireServer:
    """The wire server with empty state, no injected failures and the default token ``TOKEN``."""
    workfront_wire_server.state.reset()
    return workfront_wire_server
