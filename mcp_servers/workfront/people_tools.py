"""Workfront MCP tool for finding people: search_users (read-only), each user labelled with its MCC user."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from connectors.workfront.backend import WorkfrontBackend
from connectors.workfront.people import USERS_LIMIT_MAX
from mcp_servers.guard.blocking import in_thread
from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ToolDef, ToolInput
from mcp_servers.people import PeopleMap
from mcp_servers.workfront.tool_calls import wf

BackendFor = Callable[[str], WorkfrontBackend]


class SearchUsersArgs(ToolInput):
    text: str | None = Field(
        None, min_length=1, max_length=255,
        description="Part of a name or of an email address (case-insensitive); omit to list everyone.",
    )  # fmt: skip
    limit: int = Field(50, ge=1, le=USERS_LIMIT_MAX, description=f"At most this many users, 1-{USERS_LIMIT_MAX}.")


class WorkfrontUserOut(BaseModel):
    user_id: str = Field(description="Workfront user (USER) ID, 32 hex: what assign_resource takes.")
    name: str
    email_addr: str | None = None
    home_team_id: str | None = Field(None, description="The user's home team (TEAMOB) ID: get_capacity takes it.")
    mcc_user_id: str | None = Field(None, description="The MCC user of your tenant linked to this person, or null.")


class UsersOut(BaseModel):
    users: list[WorkfrontUserOut] = Field(description="Ordered by name.")


def people_tools(backend_for: BackendFor, people: PeopleMap) -> list[ToolDef]:
    """The people tools over the caller's tenant's Workfront backend and the tenant's identity map."""

    async def search_users(call: CallContext, a: SearchUsersArgs) -> UsersOut:
        """Find Workfront users whose name or email address contains text (case-insensitive), ordered by name;
        without text, everyone (up to limit). Read-only.

        Each user has user_id (Workfront USER ID, 32 hex), name, email_addr, home_team_id and mcc_user_id: the
        MCC user of your tenant linked to that person, or null when nobody is linked. assign_resource accepts
        either user_id or mcc_user_id. Give part of a name or address (e.g. "chen" or "@acme"): a full email
        address is personal data and is not sent to Workfront. Answer: {"users": [...]}.
        """
        tenant = call.principal.tenant_id
        found = await wf(backend_for(tenant).search_users(a.text, limit=a.limit))
        linked = await in_thread(people.mcc_users, tenant, "workfront", [u.id for u in found])
        return UsersOut(users=[
            WorkfrontUserOut(user_id=u.id, name=u.name, email_addr=u.email_addr, home_team_id=u.home_team_id,
                             mcc_user_id=linked.get(u.id))
            for u in found
        ])  # fmt: skip

    return [ToolDef("search_users", SearchUsersArgs, UsersOut, search_users, read_only=True, open_world=True,
                    idempotent=True)]  # fmt: skip
