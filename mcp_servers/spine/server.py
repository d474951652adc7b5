"""The campaign-spine MCP server: canonical campaigns, strategies, work items, ids, performance, approvals."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from sqlalchemy.orm import Session, sessionmaker

from mcp_servers.guard.guard import Guard
from mcp_servers.guard.sdk_adapter import build_server
from mcp_servers.spine.campaign_tools import campaign_tools
from mcp_servers.spine.governance_tools import governance_tools
from mcp_servers.spine.resources import spine_extras
from mcp_servers.spine.setup_tools import CampaignSetupStarter, setup_tools
from mcp_servers.spine.strategy_tools import strategy_tools

INSTRUCTIONS = (
    "The canonical campaign spine of Marketing Command Center: one id per campaign mapped to every system's "
    "id. Read campaigns, strategies, work items, tracking keys and performance; create campaigns and change "
    "MCC-owned fields; resolve approvals. Status arrives from Workfront/Asana and cannot be set here. Resources: "
    "campaign://{id} and approval://{id}; prompts: the common workflows."
)


def build_spine_server(
    sessions: sessionmaker[Session], guard: Guard, *, campaign_setup: CampaignSetupStarter | None = None,
    **server_kwargs: Any,
) -> MCPServer:  # fmt: skip
    """The spine server over ``sessions``, every call through ``guard`` (server name ``spine``);
    ``campaign_setup`` starts the durable campaign-creation workflow (``start_campaign_setup``; without it the
    server does not offer that tool)."""
    tools = campaign_tools(sessions) + setup_tools(campaign_setup) + strategy_tools(sessions)
    tools += governance_tools(guard.approvals, guard.audit)
    return build_server("spine", INSTRUCTIONS, tools, guard, extras=spine_extras(tools), **server_kwargs)
