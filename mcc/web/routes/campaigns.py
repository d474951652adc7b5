"""Campaigns: the filtered list and one campaign's page (ids everywhere, work, strategies, approvals, audit,
performance charts). Every signed-in user of the tenant may read them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mcc.web.campaign_view import CHANNELS, STATUSES, TIERS, TYPES, CampaignFilters, campaign_page, list_campaigns
from mcc.web.rendering import NavItem, is_htmx, render
from mcc.web.security import WebPrincipal, mcc_app, signed_in

router = APIRouter()
NAV = NavItem(30, "Campaigns", "/campaigns")


@router.get("/campaigns")
def campaigns(request: Request, status: str = "", tier: str = "", type: str = "", channel: str = "",
              owner: str = "", q: str = "", principal: WebPrincipal = Depends(signed_in)) -> Response:  # fmt: skip
    """The list; an htmx request (search as you type) gets only the results table."""
    f = CampaignFilters.parse(status, tier, type, channel, owner, q)
    rows, owners = list_campaigns(mcc_app(request), principal.tenant_id, f)
    context = {"title": "Campaigns", "rows": rows, "f": f, "owners": owners, "statuses": STATUSES,
               "tiers": TIERS, "types": TYPES, "channels": CHANNELS}  # fmt: skip
    template = "campaigns/_table.html" if is_htmx(request) else "campaigns/list.html"
    return render(request, template, context)


@router.get("/campaigns/{campaign_id}")
def campaign(request: Request, campaign_id: str, principal: WebPrincipal = Depends(signed_in)) -> Response:
    page = campaign_page(mcc_app(request), principal.tenant_id, campaign_id)
    return render(request, "campaigns/detail.html", {"title": page.campaign.name, "page": page})
