"""End-state records for ``state`` expectations: the spine (campaigns, work items, approvals, strategies,
measurements), Workfront (PROJ/TASK through the backend's search) and Asana (tasks through search_tasks, projects).

Records are plain JSON dicts. A few convenience fields make filters readable: ``campaign`` (the campaign's name) on
spine records that belong to one, ``project`` and ``assignee`` (the directory user id) on Workfront and Asana tasks.
"""

from __future__ import annotations

from typing import Any

from evals.cases import StateExpect
from evals.matchers import match_record
from evals.world import EvalApp
from spine.approvals import ApprovalStore
from spine.repositories import open_store

WF_FIELDS = {
    "PROJ": ["ID", "name", "status", "description", "percentComplete", "plannedStartDate", "plannedCompletionDate",
             "ownerID"],
    "TASK": ["ID", "name", "status", "description", "percentComplete", "plannedStartDate", "plannedCompletionDate",
             "projectID", "assignedToID"],
}  # fmt: skip
APPROVAL_FIELDS = ("approval_id", "server", "tool", "arguments", "requester", "required_group", "reason", "status",
                   "resolved_by", "note", "created_at", "expires_at")  # fmt: skip


def _user_of(email: str | None) -> str | None:
    # demo directory e-mails are <user_id>@<tenant>.example.com
    return email.split("@", 1)[0] if email and "@" in email else None


def spine_records(app: EvalApp, tenant: str, kind: str) -> list[dict[str, Any]]:
    """One spine collection of ``tenant`` as JSON records."""
    if kind == "approvals":
        rows = ApprovalStore(app.sessions).list(tenant)
        return [{k: _jsonable(getattr(a, k)) for k in APPROVAL_FIELDS} for a in rows]
    with open_store(app.sessions, tenant) as store:
        campaigns = store.campaigns.list(limit=100_000)
        names = {c.id: c.name for c in campaigns}
        if kind == "campaigns":
            return [c.model_dump(mode="json") for c in campaigns]
        if kind == "work_items":
            rows = [w.model_dump(mode="json") for w in store.work_items.list()]
        elif kind == "strategies":
            rows = [s.model_dump(mode="json") for s in store.strategies.list()]
        elif kind == "measurements":
            rows = [m.model_dump(mode="json") for c in campaigns for m in store.measurements.list(c.id)]
        else:
            raise ValueError(f"source: unknown spine collection {kind!r}")
    for r in rows:
        r["campaign"] = names.get(r.get("campaign_id", ""))
    return rows


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def workfront_records(app: EvalApp, tenant: str, obj_code: str) -> list[dict[str, Any]]:
    """Every PROJ or TASK of the tenant's Workfront (search, all pages), tasks with project name and assignee."""
    backend = app.workfront_backend(tenant)
    rows = await _wf_all(backend, obj_code, WF_FIELDS[obj_code])
    if obj_code == "TASK":
        projects = {p["ID"]: p["name"] for p in await _wf_all(backend, "PROJ", ["ID", "name"])}
        users = {u["ID"]: u.get("emailAddr") for u in await _wf_all(backend, "USER", ["ID", "emailAddr"])}
        for r in rows:
            r["project"] = projects.get(r.get("projectID"))
            r["assignee"] = _user_of(users.get(r.get("assignedToID")))
    return rows


async def _wf_all(backend: Any, obj_code: str, fields: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    first: int | None = 0
    while first is not None:
        page = await backend.search(obj_code, fields=fields, limit=2000, first=first)
        out.extend(dict(i) for i in page.items)
        first = page.next_first
    return out


async def asana_records(app: EvalApp, tenant: str, kind: str) -> list[dict[str, Any]]:
    """Every task (search_tasks, all pages) or project of the tenant's Asana workspace."""
    backend = app.asana_backend(tenant)
    tasks: list[dict[str, Any]] = []
    offset: str | None = None
    while True:
        page = await backend.search_tasks(limit=100, offset=offset)
        tasks.extend(t.model_dump(mode="json") for t in page.data)
        if page.next_page is None:
            break
        offset = page.next_page.offset
    if kind == "projects":  # Asana has no project listing here: the tasks' projects plus the campaigns' links
        with open_store(app.sessions, tenant) as store:
            linked = {
                c.external_refs["asana"] for c in store.campaigns.list(limit=100_000) if "asana" in c.external_refs
            }
        gids = {p["gid"] for t in tasks for p in t.get("projects") or []} | linked
        return [(await backend.get_project(g)).model_dump(mode="json") for g in sorted(gids)]
    for t in tasks:
        t["project"] = next((p.get("name") for p in t.get("projects") or []), None)
        t["assignee_user"] = None
    users = backend.seed_demo(workspace_name="").users if hasattr(backend, "seed_demo") else {}
    by_gid = {gid: email for email, gid in users.items()}
    for t in tasks:
        t["assignee_user"] = _user_of(by_gid.get((t.get("assignee") or {}).get("gid")))
    return tasks


async def records(app: EvalApp, tenant: str, source: str) -> list[dict[str, Any]]:
    """The records of ``source`` (``spine.campaigns``, ``workfront.TASK``, ``asana.tasks``, ...)."""
    system, _, kind = source.partition(".")
    if system == "spine":
        return spine_records(app, tenant, kind)
    if system == "workfront":
        return await workfront_records(app, tenant, kind)
    return await asana_records(app, tenant, kind)


async def check_state(app: EvalApp, spec: StateExpect, default_tenant: str) -> str | None:
    """``None`` when the records of ``spec.source`` matching ``where`` have the expected count and fields."""
    tenant = spec.tenant or default_tenant
    rows = await records(app, tenant, spec.source)
    hits = [r for r in rows if match_record(spec.where, r) is None]
    n = len(hits)
    if spec.count is not None and n != spec.count:
        return f"{n} record(s) match, expected {spec.count}" + _nearest(rows, spec)
    if spec.min is not None and n < spec.min:
        return f"{n} record(s) match, expected at least {spec.min}" + _nearest(rows, spec)
    if spec.max is not None and n > spec.max:
        return f"{n} record(s) match, expected at most {spec.max}"
    if spec.fields:
        if not hits:
            return "no record matches, so its fields cannot be checked" + _nearest(rows, spec)
        for r in hits:
            reason = match_record(spec.fields, r)
            if reason:
                label = r.get("name") or r.get("approval_id") or r.get("id") or r.get("gid") or r.get("ID")
                return f"record {label!r}: {reason}"
    return None


def _nearest(rows: list[dict[str, Any]], spec: StateExpect) -> str:
    """A hint from the first ``where`` key: what the records hold there (e.g. the names that exist)."""
    if not spec.where or not rows:
        return ""
    key = next(iter(spec.where))
    seen = sorted({str(r.get(key)) for r in rows if r.get(key) is not None})[:6]
    return f" ({key} values present: {', '.join(seen)})" if seen else ""
