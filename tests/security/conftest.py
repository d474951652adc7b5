"""Shared helpers of the attack tests: a guarded knowledge server per principal, and calling a tool in-process."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from sqlalchemy.orm import Session, sessionmaker

from knowledge.service import KnowledgeBase
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.knowledge.server import build_knowledge_server
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog


def knowledge_server(
    kb: KnowledgeBase, sessions: sessionmaker[Session], user: str, tenant: str, *, shared: bool = True
) -> MCPServer:
    """The real guarded knowledge server, as ``user`` of ``tenant``."""
    audit = AuditLog(sessions)
    guard = Guard("knowledge", PolicyEngine.from_directory(fx_rates={"USD": Decimal(1)}),
                  ApprovalStore(sessions, audit=audit), audit,
                  FixedPrincipal(Principal(user, tenant, frozenset({"readonly-users"}))))  # fmt: skip
    return build_knowledge_server(kb, guard, shared=shared)


async def call(server: MCPServer, tool: str, args: dict[str, Any]) -> tuple[bool, Any]:
    """(ok, structured result) or (False, the error text)."""
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    return (False, result.content[0].text) if result.is_error else (True, result.structured_content["result"])
