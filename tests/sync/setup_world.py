"""A small world for the campaign-setup tests: tenant ``acme`` with four people known to the spine directory, the
Workfront sandbox and the Asana sandbox (under ``home``), and the services the workflow runs with."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.sandbox import AsanaSandbox
from connectors.workfront.models import Directory, Team, User
from connectors.workfront.sandbox import WorkfrontSandbox
from connectors.workfront.seed import default_directory, seed_demo
from spine.audit import AuditLog
from spine.db import transaction
from spine.models import EventLog, SystemRef, WorkItem
from spine.repositories import SpineStore, create_tenant
from sync.campaign_setup import SetupServices
from sync.setup_systems import AsanaSetup, SetupSystem, SystemName, WorkfrontSetup

TENANT = "acme"
AUDIT_KEY = b"k" * 32
PEOPLE = (  # user id, name, groups
    ("maya.chen", "Maya Chen", ["campaign-managers"]),
    ("pat.ng", "Pat Ng", ["production-team"]),
    ("eve.ruiz", "Eve Ruiz", ["event-marketers"]),
    ("lee.park", "Lee Park", ["marketing-leadership"]),
)


def _wf_id(user: str) -> str:
    return hashlib.sha256(user.encode()).hexdigest()[:32]


def sandbox_dir(home: Path, system: str) -> Path:
    return home / "sandboxes" / TENANT / system


def seed_world(sessions: sessionmaker[Session], home: Path) -> None:
    """The people in the spine and both sandboxes, with their identities linked."""
    base = default_directory()
    users = [User(ID=_wf_id(u), name=n, emailAddr=f"{u}@acme.example.com", homeTeamID=base.teams[0].id)
             for u, n, _ in PEOPLE]  # fmt: skip
    directory = Directory(users=users, teams=[Team(ID=base.teams[0].id, name="Creative")],
                          portfolios=base.portfolios, templates=base.templates)  # fmt: skip
    wf = WorkfrontSandbox(sandbox_dir(home, "workfront"))
    asyncio.run(seed_demo(wf, [], directory))
    asyncio.run(wf.aclose())
    asana_dir = sandbox_dir(home, "asana")
    asana_dir.mkdir(parents=True, exist_ok=True)
    asana = AsanaSandbox(asana_dir / "asana_sandbox.db")
    seeded = asana.seed_demo(workspace_name="Acme", users=[(n, f"{u}@acme.example.com") for u, n, _ in PEOPLE])
    asyncio.run(asana.aclose())
    with transaction(sessions) as s:
        create_tenant(s, TENANT, "Acme")
        store = SpineStore(s, TENANT)
        for user, name, groups in PEOPLE:
            store.directory.add_user({"user_id": user, "display_name": name, "email": f"{user}@acme.example.com",
                                      "groups": groups, "workfront_user_id": _wf_id(user),
                                      "asana_user_gid": seeded.users[f"{user}@acme.example.com"]})  # fmt: skip


def sandbox_systems(home: Path) -> Any:
    """The workflow's system factory over the sandboxes under ``home``."""

    def make(tenant: str, system: SystemName) -> SetupSystem:
        if system == "workfront":
            return WorkfrontSetup(WorkfrontSandbox(home / "sandboxes" / tenant / "workfront"))
        return AsanaSetup(AsanaSandbox(home / "sandboxes" / tenant / "asana" / "asana_sandbox.db"))

    return make


def services(sessions: sessionmaker[Session], home: Path, **kw: Any) -> SetupServices:
    return SetupServices(sessions=sessions, systems=kw.pop("systems", sandbox_systems(home)),
                         routing={"*": "workfront", "event": "asana"},
                         audit=AuditLog(sessions, key=AUDIT_KEY), **kw)  # fmt: skip


def campaign_fields(kind: str = "standard", **kw: Any) -> dict[str, Any]:
    return {"name": f"Northwind {kind} push", "type": kind, "tier": 2, "launch_date": "2027-05-03",
            "owner_id": "maya.chen", "channels": ["email", "web"], **kw}  # fmt: skip


def counts(sessions: sessionmaker[Session], home: Path) -> dict[str, int]:
    """What exists after a run: spine rows and the objects in both sandboxes (to spot any duplicate)."""
    import sqlite3

    with sessions() as s:
        out = {
            "work_items": s.scalar(select(func.count()).select_from(WorkItem)) or 0,
            "refs": s.scalar(select(func.count()).select_from(SystemRef)) or 0,
            "campaign.created": s.scalar(select(func.count()).where(EventLog.event_type == "campaign.created")) or 0,
            "campaign.synced": s.scalar(select(func.count()).where(EventLog.event_type == "campaign.synced")) or 0,
        }
    wf = sqlite3.connect(sandbox_dir(home, "workfront") / "workfront_sandbox.sqlite3")
    asana = sqlite3.connect(sandbox_dir(home, "asana") / "asana_sandbox.db")
    try:
        out["wf_projects"] = wf.execute("select count(*) from wf_project").fetchone()[0]
        out["wf_tasks"] = wf.execute("select count(*) from wf_task").fetchone()[0]
        out["asana_projects"] = asana.execute("select count(*) from projects").fetchone()[0]
        out["asana_tasks"] = asana.execute("select count(*) from tasks").fetchone()[0]
    finally:
        wf.close()
        asana.close()
    return out


def existing_campaign(sessions: sessionmaker[Session], home: Path, kind: str = "standard") -> tuple[str, str]:
    """A campaign already in the spine with an empty project linked in its system (what create_campaign and a
    create_project tool leave behind): (campaign id, project id)."""
    with transaction(sessions) as s:
        campaign = SpineStore(s, TENANT).campaigns.create(campaign_fields(kind), actor="maya.chen")
    system: SystemName = "asana" if kind == "event" else "workfront"
    info = {"id": campaign.id, "name": campaign.name, "type": kind, "tier": 2, "start": "2027-04-01",
            "end": "2027-05-10"}  # fmt: skip

    async def make() -> str:
        target = sandbox_systems(home)(TENANT, system)
        try:
            return await target.create_project(info, None, f"seed-{campaign.id}")
        finally:
            await target.aclose()

    project_id = asyncio.run(make())
    with transaction(sessions) as s:
        SpineStore(s, TENANT).refs.link("campaign", campaign.id, system, project_id, actor="maya.chen")
    return campaign.id, project_id
