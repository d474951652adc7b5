"""Asana MCP tool for finding people: list_users (read-only), each user labelled with its MCC user."""

from __future__ import annotations

from pydantic import BaseModel, Field

from connectors.asana.models import DEFAULT_LIMIT, NextPage
from mcp_servers.asana.tool_models import Gid, Limit, Offset, gid_field
from mcp_servers.asana.tools import BackendFor
from mcp_servers.guard.blocking import in_thread
from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ToolDef, ToolInput
from mcp_servers.people import PeopleMap


class ListUsersArgs(ToolInput):
    workspace: Gid | None = gid_field("Workspace gid; default: the configured workspace.")
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = None


class AsanaUserOut(BaseModel):
    gid: str = Field(description="Asana user gid: what assignee / user_gid arguments take.")
    name: str
    email: str | None = Field(None, description="When Asana shows it to this connection.")
    mcc_user_id: str | None = Field(None, description="The MCC user of your tenant linked to this person, or null.")


class UserPage(BaseModel):
    data: list[AsanaUserOut]
    next_page: NextPage | None = Field(description="{offset, path, uri} of the next page, or null on the last one.")


def people_tools(backend_for: BackendFor, people: PeopleMap) -> list[ToolDef]:
    """The people tools over the caller's tenant's Asana backend and the tenant's identity map."""

    async def list_users(call: CallContext, a: ListUsersArgs) -> UserPage:
        """The users of a workspace (gid: numeric string; default the configured one), by gid. Read-only.

        Each user has gid, name, email (when Asana shows it) and mcc_user_id: the MCC user of your tenant linked
        to that person, or null when nobody is linked. create_task / create_subtask / update_task take either
        the gid or the mcc_user_id as assignee. Paged: limit 1-100 (default 50); while next_page is not null,
        call again with offset = next_page.offset. Answer: {"data": [user], "next_page": ...}.
        """
        tenant = call.principal.tenant_id
        page = await backend_for(tenant).list_users(workspace=a.workspace, limit=a.limit, offset=a.offset)
        linked = await in_thread(people.mcc_users, tenant, "asana", [u.gid for u in page.data])
        users = [AsanaUserOut(gid=u.gid, name=u.name, email=u.email, mcc_user_id=linked.get(u.gid)) for u in page.data]
        return UserPage(data=users, next_page=page.next_page)

    return [ToolDef("list_users", ListUsersArgs, UserPage, list_users, read_only=True, open_world=True,
                    idempotent=True)]  # fmt: skip
