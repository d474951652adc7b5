"""The Workfront MCP server: projects, tasks, statuses, assignments, capacity, issues and notes, mirrored into
the campaign spine. Every call runs through the guard; each tenant works in its own Workfront backend."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mcp.server.mcpserver import MCPServer
from sqlalchemy.orm import Session, sessionmaker

from connectors.workfront.backend import WorkfrontBackend
from connectors.workfront.models import GUID_RE
from mcp_servers.guard.guard import Guard, ResourceTenant
from mcp_servers.guard.sdk_adapter import build_server
from mcp_servers.guard.tenancy import ResourceTenants
from mcp_servers.people import PeopleMap
from mcp_servers.workfront.people_tools import people_tools
from mcp_servers.workfront.project_tools import project_tools
from mcp_servers.workfront.spine_sync import SYSTEM, SpineSync
from mcp_servers.workfront.task_tools import task_tools

INSTRUCTIONS = (
    "Adobe Workfront for Marketing Command Center: create projects from templates (optionally linked to a "
    "canonical campaign), read project status and task counts, search any object with Workfront filters, create "
    "and update tasks, set status codes, find people (search_users) and assign them, check team capacity, report "
    "issues and add notes. Workfront IDs are 32 lowercase hex characters; dates are ISO (YYYY-MM-DD); work is in "
    "minutes, capacity in hours. Writes also update the campaign spine. Nothing can be deleted here."
)
# Arguments that name Workfront objects the spine may map to a tenant (projects -> campaigns, tasks -> items).
_ID_ARGUMENTS = ("project_id", "task_id", "obj_id", "parent_id")


def build_workfront_server(
    backend_for: Callable[[str], WorkfrontBackend],
    sessions: sessionmaker[Session],
    guard: Guard,
    **server_kwargs: Any,
) -> MCPServer:
    """The Workfront server (name ``workfront``): ``backend_for(tenant_id)`` is the caller's tenant's backend,
    ``sessions`` the spine; build ``guard`` with ``resource_tenant=workfront_resource_tenant(sessions)``."""
    sync = SpineSync(sessions)
    tools = project_tools(backend_for, sync) + task_tools(backend_for, sync)
    tools += people_tools(backend_for, PeopleMap(sessions))
    return build_server("workfront", INSTRUCTIONS, tools, guard, **server_kwargs)


def _named_ids(tool: str, args: Mapping[str, Any]) -> set[str]:
    ids = {v for k in _ID_ARGUMENTS if isinstance(v := args.get(k), str)}
    if tool == "search" and isinstance(filters := args.get("filters"), Mapping):
        for key, value in filters.items():
            if str(key).endswith("ID"):
                ids.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
    return {i for i in ids if GUID_RE.fullmatch(i)}


def workfront_resource_tenant(sessions: sessionmaker[Session]) -> ResourceTenant:
    """For ``Guard(resource_tenant=...)``: the tenant owning the Workfront ids (through spine SystemRefs) and the
    ``campaign_id`` a call names, or None when none is known; ids of several tenants, or a failed lookup, give a
    value that is no tenant, so the cross-tenant rule denies the call."""
    return ResourceTenants(sessions, SYSTEM, _named_ids)
