"""A world for the Workfront MCP server tests: spine database (two tenants with users and campaigns), one
Workfront sandbox per tenant under tmp_path, the real policy engine, approvals, audit log and guard."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.workfront.sandbox import WorkfrontSandbox
from connectors.workfront.seed import SeedResult, seed_demo
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.workfront.server import build_workfront_server, workfront_resource_tenant
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_session_factory, transaction
from spine.models import Campaign, EventLog, SystemRef, WorkItem
from spine.repositories import SpineStore, create_tenant

ACME, GLOBEX = "acme", "globex"
USERS = {
    ACME: [
        ("maya.chen", ["campaign-managers"]),
        ("dana.reyes", ["marketing-leadership"]),
        ("victor.hale", ["vp", "marketing-leadership"]),
        ("priya.natarajan", ["production-team"]),
        ("sam.taylor", ["readonly-users"]),
    ],
    GLOBEX: [("frank.grimes", ["campaign-managers"])],
}
CAMPAIGNS = {ACME: ["Spring Launch", "Summer Email", "Autumn Webinar"], GLOBEX: ["Globex Expo"]}
OBJ_CODES = ("PROJ", "TASK", "OPTASK", "NOTE")


@dataclass
class WfWorld:
    sessions: sessionmaker[Session]
    engine: PolicyEngine
    audit: AuditLog
    approvals: ApprovalStore
    sandboxes: dict[str, WorkfrontSandbox]
    directory: SeedResult
    campaigns: dict[str, dict[str, str]]  # tenant -> name -> canonical id

    def server(self, user: str, tenant: str = ACME) -> MCPServer:
        groups = dict(USERS[tenant])[user]
        principal = Principal(user, tenant, frozenset(groups))
        guard = Guard(
            "workfront", self.engine, self.approvals, self.audit, FixedPrincipal(principal),
            resource_tenant=workfront_resource_tenant(self.sessions),
        )  # fmt: skip
        return build_workfront_server(self.sandboxes.__getitem__, self.sessions, guard)

    @property
    def template(self) -> str:
        return self.directory.templates["Product Launch Campaign"]

    @property
    def creative(self) -> str:
        return self.directory.teams["Creative"]

    def user(self, name: str = "Alex Rivera") -> str:
        return self.directory.users[name]

    def spine_counts(self, tenant: str = ACME) -> dict[str, int]:
        """Rows of the tables the Workfront tools write, for 'nothing was written' assertions."""
        with self.sessions() as s:
            return {
                m.__tablename__: s.scalar(select(func.count()).select_from(m).where(m.tenant_id == tenant)) or 0
                for m in (WorkItem, SystemRef, EventLog)
            }

    def spine_state(self, tenant: str = ACME) -> dict[str, Any]:
        """Counts plus campaign and work item versions (an update would bump them)."""
        with self.sessions() as s:
            campaigns = {
                r.id: r.version for r in s.execute(select(Campaign).where(Campaign.tenant_id == tenant)).scalars()
            }
            items = {r.id: r.version for r in s.execute(select(WorkItem).where(WorkItem.tenant_id == tenant)).scalars()}
        return {**self.spine_counts(tenant), "campaign_versions": campaigns, "item_versions": items}

    async def workfront_state(self, tenant: str = ACME) -> dict[str, list[dict[str, Any]]]:
        """Every project, task, issue and note of the tenant's sandbox with all their fields."""
        sandbox = self.sandboxes[tenant]
        return {code: (await sandbox.search(code, limit=2000)).items for code in OBJ_CODES}

    def events(self, tenant: str = ACME, event_type: str | None = None) -> list[EventLog]:
        with self.sessions() as s:
            stmt = select(EventLog).where(EventLog.tenant_id == tenant).order_by(EventLog.seq)
            if event_type is not None:
                stmt = stmt.where(EventLog.event_type == event_type)
            return list(s.scalars(stmt))


async def call(server: MCPServer, tool: str, args: dict[str, Any]) -> tuple[bool, Any]:
    """One tool call through a real in-process MCP client: (ok, structured result | error text)."""
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    if result.is_error:
        return False, result.content[0].text
    return True, result.structured_content


def _load_spine(sessions: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with transaction(sessions) as session:
        for tenant, users in USERS.items():
            create_tenant(session, tenant, tenant.title())
            store = SpineStore(session, tenant)
            for user_id, groups in users:
                store.directory.add_user({"user_id": user_id, "display_name": user_id.title(),
                                          "email": f"{user_id}@{tenant}.example.com", "groups": groups})  # fmt: skip
            owner = users[0][0]
            out[tenant] = {}
            for i, name in enumerate(CAMPAIGNS[tenant]):
                c = store.campaigns.create(
                    {"name": name, "type": "standard", "tier": 2, "launch_date": dt.date(2027, 3, 1 + i),
                     "end_date": dt.date(2027, 5, 31), "owner_id": owner,
                     "budget_planned": {"amount": "5000", "currency": "USD"}, "channels": ["email"]},
                    actor=owner,
                )  # fmt: skip
                out[tenant][name] = c.id
    return out


def make_policy_engine() -> PolicyEngine:
    """The packaged Cedar policies. No rate rules: the limiter is the engine's own tested feature; here it would
    only couple tests to call counts."""
    return PolicyEngine.from_directory(fx_rates={"USD": Decimal(1), "EUR": Decimal("1.08")}, rate_rules=())


@asynccontextmanager
async def open_world(engine: Engine, tmp_path: Path, policy: PolicyEngine) -> AsyncIterator[WfWorld]:
    """A fresh world on ``engine`` (a migrated spine database) with sandboxes under ``tmp_path``."""
    sessions = make_session_factory(engine)
    campaigns = _load_spine(sessions)
    sandboxes = {t: WorkfrontSandbox(tmp_path / "workfront" / t) for t in USERS}
    directory = None
    for sandbox in sandboxes.values():
        directory = await seed_demo(sandbox)
    assert directory is not None
    audit = AuditLog(sessions)
    world = WfWorld(sessions, policy, audit, ApprovalStore(sessions, audit=audit), sandboxes, directory,
                    campaigns)  # fmt: skip
    try:
        yield world
    finally:
        for sandbox in sandboxes.values():
            await sandbox.aclose()
