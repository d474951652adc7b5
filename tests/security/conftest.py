"""A real guarded world for attacks: the App with the demo world on SQLite and PostgreSQL, a guarded knowledge
server per principal, and one-call helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from knowledge.service import KnowledgeBase
from mcc.demo_world import seed_demo_world
from mcc.settings import load_settings
from mcc.wiring import App
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.knowledge.server import build_knowledge_server
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_session_factory
from spine.models.governance import AuditEntry


@pytest.fixture
async def app(engine: Engine, tmp_path: Path) -> AsyncIterator[App]:
    settings = load_settings(home=tmp_path, policy_mode="enforce")
    world = App(settings=settings, engine=engine, sessions=make_session_factory(engine))
    await seed_demo_world(world, today=dt.date(2026, 11, 1))
    yield world
    await world.aclose_backends()


async def call(app: App, user: str, server: str, tool: str, args: dict[str, Any], tenant: str = "acme") -> Any:
    """(ok, structured result or error text) of one call as ``user``, through the real guarded server."""
    async with Client(app.server(server, FixedPrincipal(app.principal(user, tenant)))) as client:
        result = await client.call_tool(tool, args)
    return (False, result.content[0].text) if result.is_error else (True, result.structured_content)


def audit_rows(app: App, tool: str, tenant: str = "acme", limit: int = 50) -> list[AuditEntry]:
    """The tenant's newest audit rows of one tool, oldest first."""
    return [r for r in AuditLog(app.sessions).tail(tenant, limit) if r.tool == tool]


def knowledge_server(
    kb: KnowledgeBase, sessions: sessionmaker[Session], user: str, tenant: str, *, shared: bool = True
) -> MCPServer:
    """The real guarded knowledge server, as ``user`` of ``tenant``."""
    audit = AuditLog(sessions)
    guard = Guard("knowledge", PolicyEngine.from_directory(fx_rates={"USD": Decimal(1)}),
                  ApprovalStore(sessions, audit=audit), audit,
                  FixedPrincipal(Principal(user, tenant, frozenset({"readonly-users"}))))  # fmt: skip
    return build_knowledge_server(kb, guard, shared=shared)


async def call_server(server: MCPServer, tool: str, args: dict[str, Any]) -> tuple[bool, Any]:
    """(ok, structured result) or (False, the error text)."""
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    return (False, result.content[0].text) if result.is_error else (True, result.structured_content)


async def call_as(app: App, user: str, server: str, tool: str, args: dict[str, Any], tenant: str = "acme") -> Any:
    """(ok, structured result or error text) of one call as ``user`` through the real guarded server."""
    return await call_server(app.server(server, FixedPrincipal(app.principal(user, tenant))), tool, args)
