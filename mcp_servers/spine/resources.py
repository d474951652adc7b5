"""The spine server's resources: campaigns (``campaign://{id}``) and approvals (``approval://{id}``).

Every read is a call of the matching guarded read tool (get_campaign, get_approval), so it has the same principal,
tenant rules, policy decision and audit row as the tool. ``resources/list`` lists the caller's campaigns and the
pending approvals of the caller's tenant. A resource-updated event for ``approval://{id}`` is published when
``resolve_approval`` changes that approval, within this server process only: changes made elsewhere (``mcc
approvals``, another replica, an approval consumed by another server, expiry) are not pushed; re-read instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from mcp_servers.guard.sdk_adapter import Extras, ListedResource, ResourceCaller, ResourceDef
from mcp_servers.guard.toolkit import ToolDef
from mcp_servers.spine.prompts import PROMPTS

LISTED_CAMPAIGNS = 200  # resources/list shows the newest campaigns; the rest stay readable by URI


def _only(name: str) -> Any:
    return lambda params: {name: params[name]}


def spine_extras(tools: Sequence[ToolDef]) -> Extras:
    """Resources, listers, prompts and update events of the spine server, over its own guarded tools."""
    by_name: Mapping[str, ToolDef] = {t.name: t for t in tools}
    resources = [
        ResourceDef("campaign://{campaign_id}", "campaign", "Campaign",
                    "One campaign of your tenant (the get_campaign answer, as JSON).",
                    by_name["get_campaign"], _only("campaign_id")),
        ResourceDef("approval://{approval_id}", "approval", "Approval",
                    "One approval of your tenant: the held call, requester, required group and status (JSON).",
                    by_name["get_approval"], _only("approval_id")),
    ]  # fmt: skip

    async def campaigns(caller: ResourceCaller) -> list[ListedResource]:
        listed: Any = await caller.call(by_name["list_campaigns"], {"limit": LISTED_CAMPAIGNS})
        return [
            ListedResource(
                f"campaign://{c.id}",
                f"campaign-{c.id}",
                c.name,
                f"Tier {c.tier} {c.type} campaign, {c.status}, launching {c.launch_date}",
            )
            for c in listed.campaigns
        ]

    async def pending_approvals(caller: ResourceCaller) -> list[ListedResource]:
        listed: Any = await caller.call(by_name["list_approvals"], {"status": "pending"})
        return [
            ListedResource(
                f"approval://{a.approval_id}",
                f"approval-{a.approval_id}",
                f"Pending: {a.tool} (needs {a.required_group})",
                a.reason,
            )
            for a in listed.approvals
        ]

    def approval_uri(result: BaseModel) -> str | None:
        approval_id = getattr(result, "approval_id", None)
        return f"approval://{approval_id}" if approval_id else None

    return Extras(
        resources=resources,
        listers=[campaigns, pending_approvals],
        prompts=PROMPTS,
        updates={"resolve_approval": approval_uri},
    )
