"""The guarded servers of one demo world (App + seeded tenants) and helpers to call them as a user."""

from __future__ import annotations

from typing import Any

from mcp import Client
from sqlalchemy import func, select

from mcc.wiring import App
from mcp_servers.guard.identity import FixedPrincipal
from spine.models.governance import AuditEntry
from spine.repositories import open_store

CAMPAIGN = {"name": "Partner Summit EMEA", "type": "standard", "tier": 2, "launch_date": "2027-06-01",
            "owner_id": "maya.chen", "budget_planned": {"amount": "42000", "currency": "EUR"}}  # fmt: skip


async def call(app: App, user: str, server: str, tool: str, args: dict[str, Any], tenant: str = "acme") -> Any:
    """(ok, structured result or error text) of one call as ``user`` through the real guarded server."""
    async with Client(app.server(server, FixedPrincipal(app.principal(user, tenant)))) as client:
        result = await client.call_tool(tool, args)
    return (False, result.content[0].text) if result.is_error else (True, result.structured_content)


async def approved(app: App, tool: str = "create_campaign", args: dict[str, Any] = CAMPAIGN,
                   requester: str = "maya.chen", approver: str = "dana.reyes") -> str:  # fmt: skip
    """Request ``tool(args)`` as ``requester`` and have ``approver`` approve it; returns the approval id."""
    ok, pending = await call(app, requester, "spine", tool, args)
    assert ok and pending["status"] == "approval_required", pending
    ok, row = await call(app, approver, "spine", "resolve_approval",
                         {"approval_id": pending["approval_id"], "decision": "approve"})  # fmt: skip
    assert ok and row["status"] == "approved", row
    return str(pending["approval_id"])


def campaigns_named(app: App, name: str) -> list[str]:
    with open_store(app.sessions, "acme") as store:
        return [c.id for c in store.campaigns.list(limit=500) if c.name == name]


def audit_count(app: App, decision: str, approval_id: str) -> int:
    with app.sessions() as s:
        q = select(func.count()).where(AuditEntry.decision == decision, AuditEntry.approval_id == approval_id)
        return int(s.scalar(q) or 0)
