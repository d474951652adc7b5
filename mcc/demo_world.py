"""The demo world: the spine's demo tenants plus matching Workfront and Asana sandbox data.

Every demo campaign that runs in Workfront or Asana gets its project and tasks in that tenant's sandbox first;
the spine then maps each campaign and work item to the id the sandbox handed out, so a tool call with an id
from the spine finds the object in the sandbox and vice versa. People are the tenant's directory users, so an
agent can assign the same person in MCC, Workfront and Asana. REST backends are never seeded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from mcc.wiring import App
from spine.demo import DemoSummary, PlannedProject, external_plan, load_demo
from spine.demo_data import ACME_CAMPAIGNS, ACME_USERS, DEMO_TENANT, GLOBEX_CAMPAIGNS, GLOBEX_USERS, OTHER_TENANT
from spine.models import Tenant

TENANTS: tuple[tuple[str, list[tuple[str, str, list[str]]], list[dict[str, Any]]], ...] = (
    (DEMO_TENANT, ACME_USERS, ACME_CAMPAIGNS),
    (OTHER_TENANT, GLOBEX_USERS, GLOBEX_CAMPAIGNS),
)
ASANA_SECTIONS = ("To do", "In progress", "Done")


def load_demo_world(app: App, today: dt.date | None = None) -> DemoSummary:
    """Seed the sandboxes (when they are the configured backends) and load the spine demo, idempotently."""
    return asyncio.run(seed_demo_world(app, today))


async def seed_demo_world(app: App, today: dt.date | None = None) -> DemoSummary:
    """``load_demo_world`` for callers that already run an event loop (the eval runner)."""
    today = today or dt.date.today()
    with app.sessions() as s:
        if s.get(Tenant, DEMO_TENANT) is not None:  # loaded before: the sandboxes hold their data already
            return load_demo(app.sessions, today=today)
    ids: dict[tuple[str, str], str] = {}
    for tenant, users, campaigns in TENANTS:
        plan = external_plan(tenant, campaigns, users, today)
        if app.settings.workfront_backend == "sandbox":
            ids |= await _seed_workfront(app, tenant, users, [p for p in plan if p.system == "workfront"])
        if app.settings.asana_backend == "sandbox":
            ids |= await _seed_asana(app, tenant, users, [p for p in plan if p.system == "asana"])
    if not ids:
        return load_demo(app.sessions, today=today)

    def external_id(system: str, seed: str) -> str:
        return ids[(system, seed)]

    return load_demo(app.sessions, today=today, external_ids=external_id)


def _email(tenant: str, user_id: str) -> str:
    return f"{user_id}@{tenant}.example.com"


async def _seed_workfront(
    app: App, tenant: str, users: list[tuple[str, str, list[str]]], plan: list[PlannedProject]
) -> dict[tuple[str, str], str]:
    from connectors.workfront.mapping import project_codes_for, task_codes_for
    from connectors.workfront.models import Directory, Team, User
    from connectors.workfront.seed import SeedProject, SeedTask, default_directory, demo_guid, seed_demo

    base = default_directory()
    creative, ops = (t.id for t in base.teams)
    wf_users = [
        User(ID=demo_guid("user", f"{tenant}:{uid}"), name=name, emailAddr=_email(tenant, uid),
             homeTeamID=creative if "production-team" in groups else ops)
        for uid, name, groups in users
    ]  # fmt: skip
    user_id = {uid: u.id for (uid, _, _), u in zip(users, wf_users, strict=True)}
    teams = [Team(ID=creative, name="Creative"), Team(ID=ops, name="Marketing Ops")]
    directory = Directory(users=wf_users, teams=teams, portfolios=base.portfolios, templates=base.templates)
    projects = [
        SeedProject(
            key=p.seed, name=p.name, planned_start_date=p.launch - dt.timedelta(days=30),
            planned_completion_date=p.end or p.launch + dt.timedelta(days=30), owner_id=user_id[p.owner],
            portfolio_id=base.portfolios[0].id, status=project_codes_for(p.status)[0],
            tasks=[
                SeedTask(name=i.name, planned_start_date=i.start, planned_completion_date=max(i.start, i.end),
                         assigned_to_id=user_id[i.assignee],
                         status=task_codes_for(i.status)[0] if task_codes_for(i.status) else None)
                for i in p.items
            ],
        )
        for p in plan
    ]  # fmt: skip
    result = await seed_demo(app.workfront_backend(tenant), projects, directory)  # type: ignore[arg-type]
    ids: dict[tuple[str, str], str] = {}
    for p, made in zip(plan, result.projects, strict=True):
        ids[("workfront", p.seed)] = made.id
        for item, task_id in zip(p.items, made.task_ids, strict=True):
            ids[("workfront", item.seed)] = task_id
    return ids


async def _seed_asana(
    app: App, tenant: str, users: list[tuple[str, str, list[str]]], plan: list[PlannedProject]
) -> dict[tuple[str, str], str]:
    section = {"completed": "Done", "in_progress": "In progress", "pending_review": "In progress"}
    projects = [
        {
            "name": p.name, "notes": f"Execution project of the campaign {p.name}.",
            "start_on": (p.launch - dt.timedelta(days=30)).isoformat(),
            "due_on": (p.end or p.launch + dt.timedelta(days=30)).isoformat(), "sections": list(ASANA_SECTIONS),
            "tasks": [
                {"name": i.name, "section": section.get(i.status, "To do"), "completed": i.status == "completed",
                 "assignee": _email(tenant, i.assignee),
                 "start_on": i.start.isoformat(), "due_on": max(i.start, i.end).isoformat()}
                for i in p.items
            ],
        }
        for p in plan
    ]  # fmt: skip
    backend = app.asana_backend(tenant)
    seeded = backend.seed_demo(  # type: ignore[attr-defined]
        workspace_name=f"{tenant.title()} Marketing", users=[(name, _email(tenant, uid)) for uid, name, _ in users],
        projects=projects,
    )  # fmt: skip
    ids: dict[tuple[str, str], str] = {}
    for p in plan:
        project_gid = seeded.projects[p.name]
        ids[("asana", p.seed)] = project_gid
        page = await backend.search_tasks(project=project_gid, limit=100)
        by_name = {t.name: t.gid for t in page.data}
        for item in p.items:
            ids[("asana", item.seed)] = by_name[item.name]
    return ids
