"""A two-tenant world for the Asana server tests: the real spine (acme + globex, demo users and groups), one
embedded Asana sandbox per tenant, the real guard with the packaged Cedar policies, and an in-process client."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.sandbox import AsanaSandbox
from connectors.asana.sandbox_seed import DemoSeed
from mcp_servers.asana.server import asana_resource_tenant, build_asana_server
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_session_factory, transaction
from spine.demo_data import ACME_USERS, DEMO_TENANT, GLOBEX_USERS, OTHER_TENANT
from spine.models import EventLog, SystemRef, WorkItem
from spine.repositories import SpineStore, create_tenant

ACME, GLOBEX = DEMO_TENANT, OTHER_TENANT
USERS = {ACME: ACME_USERS, GLOBEX: GLOBEX_USERS}
GROUPS = {(tenant, u): frozenset(g) for tenant, users in USERS.items() for u, _, g in users}
UNKNOWN_GID = "1299999999999999"  # well-formed, never issued by a fresh sandbox
READS = {"get_project", "search_tasks", "get_task", "get_user_tasks", "list_sections", "list_users"}
CREATES = {"create_project", "create_task", "create_subtask", "add_comment"}
WRITES = CREATES | {"update_task", "add_task_to_section"}
SANDBOX_TABLES = ("projects", "sections", "tasks", "memberships", "stories", "idempotency_keys")


@dataclasses.dataclass
class AsanaWorld:
    engine: Engine
    sessions: sessionmaker[Session]
    audit: AuditLog
    approvals: ApprovalStore
    policy: PolicyEngine
    sandboxes: dict[str, AsanaSandbox]
    seeds: dict[str, DemoSeed]
    paths: dict[str, Path]
    campaigns: dict[str, str]  # name -> canonical id
    work_items: dict[str, str]  # task name -> canonical work item id
    _servers: dict[tuple[str, str], MCPServer] = dataclasses.field(default_factory=dict)

    def server(self, user: str, tenant: str = ACME) -> MCPServer:
        """The server as `user` sees it (built once per user: building is the slow part of a call)."""
        if (user, tenant) not in self._servers:
            self._servers[(user, tenant)] = self._build(user, tenant)
        return self._servers[(user, tenant)]

    def _build(self, user: str, tenant: str) -> MCPServer:
        principal = Principal(user, tenant, GROUPS[(tenant, user)])
        guard = Guard("asana", self.policy, self.approvals, self.audit, FixedPrincipal(principal),
                      resource_tenant=asana_resource_tenant(self.sessions))  # fmt: skip
        return build_asana_server(self.sandboxes.__getitem__, self.sessions, guard)

    async def call(self, user: str, tool: str, args: dict[str, Any], tenant: str = ACME) -> tuple[bool, Any]:
        """(ok, structured result) or (False, the error text); the client also checks the result against the
        tool's published output schema."""
        async with Client(self.server(user, tenant)) as client:
            result = await client.call_tool(tool, args)
        if result.is_error:
            return False, result.content[0].text
        return True, result.structured_content

    def spine_counts(self) -> dict[str, Any]:
        """What a write may change in the spine: work items (with versions), refs, events."""
        with self.sessions() as s:
            return {
                "work_items": sorted(s.execute(select(WorkItem.id, WorkItem.version)).all()),
                "refs": s.scalar(select(func.count()).select_from(SystemRef)),
                "events": s.scalar(select(func.count()).select_from(EventLog)),
            }

    def asana_rows(self, tenant: str = ACME) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the tenant's sandbox file, read with plain sqlite3 (not through the backend)."""
        con = sqlite3.connect(self.paths[tenant])
        try:
            return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in SANDBOX_TABLES}
        finally:
            con.close()

    def story_texts(self, tenant: str = ACME) -> list[str]:
        con = sqlite3.connect(self.paths[tenant])
        try:
            return [r[0] for r in con.execute("SELECT text FROM stories ORDER BY seq")]
        finally:
            con.close()

    async def close(self) -> None:
        for sandbox in self.sandboxes.values():
            await sandbox.aclose()


def _sandbox(path: Path, tenant: str) -> tuple[AsanaSandbox, DemoSeed]:
    sandbox = AsanaSandbox(path)
    people = [(name, f"{uid}@{tenant}.example.com") for uid, name, _ in USERS[tenant]]
    board = {
        "name": f"{tenant.title()} Partner Board",
        "sections": ["To do", "Doing", "Done"],
        "tasks": [
            {"name": f"{tenant} brief partners", "section": "To do", "due_on": "2027-03-01",
             "subtasks": [{"name": f"{tenant} collect logos"}]},
            {"name": f"{tenant} draft email", "section": "Doing", "start_on": "2027-02-01", "due_on": "2027-02-20"},
        ],
    }  # fmt: skip
    loose = {"name": f"{tenant.title()} Backlog", "tasks": [{"name": f"{tenant} unlinked idea"}]}
    seed = sandbox.seed_demo(workspace_name=tenant.title(), users=people, projects=[board, loose])
    return sandbox, seed


def _spine(sessions: sessionmaker[Session], tenant: str, seed: DemoSeed, owner: str) -> tuple[dict, dict]:
    """The tenant, its directory, an unlinked campaign, and a campaign linked to the Partner Board whose
    first task (and its subtask) are mirrored as work items."""
    with transaction(sessions) as session:
        create_tenant(session, tenant, tenant.title())
        store = SpineStore(session, tenant)
        for uid, name, groups in USERS[tenant]:
            store.directory.add_user(
                {"user_id": uid, "display_name": name, "email": f"{uid}@{tenant}.example.com", "groups": groups}
            )
        base = {"type": "event", "tier": 2, "launch_date": dt.date(2027, 3, 10), "owner_id": owner}
        fresh = store.campaigns.create({**base, "name": f"{tenant} Summit"}, actor=owner)
        linked = store.campaigns.create({**base, "name": f"{tenant} Partner Push"}, actor=owner)
        board = seed.projects[f"{tenant.title()} Partner Board"]
        store.refs.link("campaign", linked.id, "asana", board, actor="sync")
        brief, logos = seed.tasks[f"{tenant} brief partners"], seed.tasks[f"{tenant} collect logos"]
        item = store.work_items.create({"campaign_id": linked.id, "name": "brief partners", "source_system": "asana",
                                        "external_id": brief}, actor="sync")  # fmt: skip
        sub = store.work_items.create({"campaign_id": linked.id, "name": "collect logos", "source_system": "asana",
                                       "external_id": logos, "parent_item_id": item.id}, actor="sync")  # fmt: skip
    campaigns = {"fresh": fresh.id, "linked": linked.id}
    return campaigns, {"brief": item.id, "logos": sub.id}


def make_world(engine: Engine, tmp_path: Path) -> AsanaWorld:
    sessions = make_session_factory(engine)
    audit = AuditLog(sessions)
    sandboxes, seeds, paths, campaigns, items = {}, {}, {}, {}, {}
    for tenant, owner in ((ACME, "jordan.lee"), (GLOBEX, "frank.grimes")):
        paths[tenant] = tmp_path / tenant / "asana.db"
        sandboxes[tenant], seeds[tenant] = _sandbox(paths[tenant], tenant)
        c, w = _spine(sessions, tenant, seeds[tenant], owner)
        campaigns.update({f"{tenant}:{k}": v for k, v in c.items()})
        items.update({f"{tenant}:{k}": v for k, v in w.items()})
    return AsanaWorld(
        engine=engine,
        sessions=sessions,
        audit=audit,
        approvals=ApprovalStore(sessions, audit=audit),
        policy=PolicyEngine.from_directory(fx_rates={"USD": Decimal(1)}),  # per world: fresh rate counters
        sandboxes=sandboxes,
        seeds=seeds,
        paths=paths,
        campaigns=campaigns,
        work_items=items,
    )
