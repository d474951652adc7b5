"""The Asana MCP server: projects, sections, tasks, subtasks and comments of the caller's tenant's Asana, every
call through the guard, every write mirrored into the campaign spine."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from sqlalchemy.orm import Session, sessionmaker

from mcp_servers.asana.people_tools import people_tools
from mcp_servers.asana.spine_sync import asana_resource_tenant
from mcp_servers.asana.tools import BackendFor, asana_tools
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.sdk_adapter import build_server
from mcp_servers.people import PeopleMap

__all__ = ["asana_resource_tenant", "build_asana_server"]

INSTRUCTIONS = (
    "Asana for Marketing Command Center. Ids are gids: numeric strings such as '1204567890123456'; dates are "
    "ISO YYYY-MM-DD. Answers are Asana's {'data': ...} envelopes; list tools page with an opaque offset "
    "(pass next_page.offset back until next_page is null). A task's projects and sections are chosen when it "
    "is created; move it later with add_task_to_section. Find people with list_users; an assignee may be a user "
    "gid or the MCC user id linked to it. Creates take an idempotency_key: retrying with the "
    "same key returns the first result. Writes on projects linked to a campaign are recorded in the campaign "
    "spine (work items, events)."
)


def build_asana_server(
    backend_for: BackendFor, sessions: sessionmaker[Session], guard: Guard, **server_kwargs: Any
) -> MCPServer:
    """The Asana server (name ``asana``): ``backend_for(tenant_id)`` is that tenant's Asana backend (each tenant
    has its own sandbox or token); ``sessions`` is the spine; every call runs through ``guard``, which should
    be built with ``resource_tenant=asana_resource_tenant(sessions)`` so gids of another tenant are denied."""
    if guard.server != "asana":
        raise ValueError(f"guard.server must be 'asana' (the policy catalog's server name), not {guard.server!r}")
    tools = asana_tools(backend_for, sessions) + people_tools(backend_for, PeopleMap(sessions))
    return build_server("asana", INSTRUCTIONS, tools, guard, **server_kwargs)
