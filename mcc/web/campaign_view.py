"""What the campaign pages show, read through the tenant-scoped repositories (no HTTP here: testable alone)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mcc.wiring import App
from spine.enums import CampaignStatus, CampaignType, Channel
from spine.schemas import CampaignOut

STATUSES = [s.value for s in CampaignStatus]
TYPES = [t.value for t in CampaignType]
CHANNELS = [c.value for c in Channel]
TIERS = [1, 2, 3]
LIST_LIMIT = 500


@dataclass(frozen=True, slots=True)
class CampaignFilters:
    """Validated list filters; an unknown value is dropped (never sent to the database as-is)."""

    status: str | None = None
    tier: int | None = None
    type: str | None = None
    channel: str | None = None
    owner: str | None = None
    q: str | None = None

    @classmethod
    def parse(cls, status: str = "", tier: str = "", type: str = "", channel: str = "", owner: str = "",
              q: str = "") -> CampaignFilters:  # fmt: skip
        return cls(
            status=status if status in STATUSES else None,
            tier=int(tier) if tier.isdigit() and int(tier) in TIERS else None,
            type=type if type in TYPES else None,
            channel=channel if channel in CHANNELS else None,
            owner=owner.strip()[:128] or None,
            q=q.strip()[:200] or None,
        )


def list_campaigns(app: App, tenant_id: str, f: CampaignFilters) -> tuple[list[CampaignOut], list[str]]:
    """The tenant's campaigns matching ``f`` (channel filtered here: channels are a JSON list) and its owners."""
    from spine.repositories import open_store

    with open_store(app.sessions, tenant_id) as store:
        rows = store.campaigns.list(status=f.status, type=f.type, tier=f.tier, owner_id=f.owner,
                                    name_contains=f.q, limit=LIST_LIMIT)  # fmt: skip
        owners = campaign_owners(store.session, tenant_id)
    if f.channel:
        rows = [c for c in rows if f.channel in c.channels]
    return rows, owners


def campaign_owners(session: Any, tenant_id: str) -> list[str]:
    """The distinct owners of the tenant's campaigns (the owner filter's choices), one small query."""
    from sqlalchemy import select

    from spine.models import Campaign

    stmt = select(Campaign.owner_id).where(Campaign.tenant_id == tenant_id).distinct().order_by(Campaign.owner_id)
    return list(session.scalars(stmt))


@dataclass
class CampaignPage:
    campaign: CampaignOut
    ids: list[tuple[str, str, str | None]]  # (system, id, url)
    work_items: dict[str, list[Any]]
    strategies: list[list[Any]]  # each strategy's versions, newest first
    approvals: list[Any]
    audit: list[Any]
    totals: list[Any]
    by_channel: list[Any]
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)  # chart id -> Chart.js config


def campaign_page(app: App, tenant_id: str, campaign_id: str) -> CampaignPage:
    """Everything the campaign page shows; another tenant's id raises like a missing one (TenantIsolationError)."""
    from spine.approvals import ApprovalStore
    from spine.audit_search import AuditSearch
    from spine.errors import NotFoundError
    from spine.performance import campaign_breakdown
    from spine.repositories import open_store

    with open_store(app.sessions, tenant_id) as store:
        c = store.campaigns.get(campaign_id)
        ids: list[tuple[str, str, str | None]] = [("mcc", c.id, None)]
        ids += [(r.system, r.external_id, r.external_url) for r in store.refs.external_ids("campaign", c.id)]
        try:
            keys = store.tracking.get(c.id)
            ids += [(name, value, None) for name, value in (
                ("adobe_analytics", keys.adobe_analytics), ("google_analytics", keys.google_analytics),
                ("salesforce", keys.salesforce), ("internal_metrics", keys.internal_metrics)) if value]  # fmt: skip
        except NotFoundError:
            pass
        work: dict[str, list[Any]] = defaultdict(list)
        for item in store.work_items.list(c.id):
            work[str(item.source_system)].append(item)
        strategies = [store.strategies.history(s.id) for s in store.strategies.list(c.id)]
        perf = campaign_breakdown(store.session, tenant_id, c.id)
    needles = {c.id, c.name, *(i for _, i, _ in ids)}
    approvals = [a for a in ApprovalStore(app.sessions).list(tenant_id) if _mentions(a.arguments, needles)]
    audit = AuditSearch(app.sessions, tenant_id).concerning(
        [c.id, *(i for s, i, _ in ids if s in ("workfront", "asana"))], [a.approval_id for a in approvals], limit=50
    )
    page = CampaignPage(c, ids, dict(work), strategies, approvals, list(audit), perf.totals, perf.by_channel)
    page.charts = _charts(perf.daily, perf.by_channel)
    return page


def _mentions(arguments: Any, needles: set[str]) -> bool:
    text = json.dumps(arguments, default=str)
    return any(n and json.dumps(n)[1:-1] in text for n in needles)


PALETTE = ["#0b5cad", "#b3411b", "#1d6b2f", "#6b3fa0", "#8a5300", "#00707a", "#a4000f"]


def _charts(daily: list[Any], channels: list[Any]) -> dict[str, dict[str, Any]]:
    """Chart.js configs: volumes and spend over time, CTR and ROAS over time, totals by channel (one currency:
    the campaign's main one, money never mixes)."""
    if not daily:
        return {}
    currency = max({d.metrics.currency for d in daily}, key=lambda cur: sum(
        float(d.metrics.spend) for d in daily if d.metrics.currency == cur))  # fmt: skip
    days = [d for d in daily if d.metrics.currency == currency]
    labels = [d.date.isoformat() for d in days]

    def line(label: str, values: list[Any], i: int, axis: str = "y") -> dict[str, Any]:
        return {"label": label, "data": values, "borderColor": PALETTE[i], "backgroundColor": PALETTE[i],
                "yAxisID": axis, "pointRadius": 0, "borderWidth": 2}  # fmt: skip

    m = [d.metrics for d in days]
    volume = {"type": "line", "data": {"labels": labels, "datasets": [
        line("Impressions", [x.impressions for x in m], 0),
        line("Clicks", [x.clicks for x in m], 1, "y1"),
        line("Conversions", [x.conversions for x in m], 2, "y1"),
    ]}, "options": {"scales": {"y": {"position": "left", "title": {"display": True, "text": "Impressions"}},
                               "y1": {"position": "right", "grid": {"drawOnChartArea": False},
                                      "title": {"display": True, "text": "Clicks, conversions"}}}}}  # fmt: skip
    spend = {"type": "bar", "data": {"labels": labels, "datasets": [
        {**line(f"Spend ({currency})", [float(x.spend) for x in m], 3), "type": "bar"}]}}  # fmt: skip
    ratios = {"type": "line", "data": {"labels": labels, "datasets": [
        line("CTR (%)", [round(x.ctr * 100, 3) if x.ctr is not None else None for x in m], 0),
        line("ROAS", [round(x.roas, 3) if x.roas is not None else None for x in m], 1, "y1"),
    ]}, "options": {"scales": {"y": {"position": "left", "title": {"display": True, "text": "CTR %"}},
                               "y1": {"position": "right", "grid": {"drawOnChartArea": False},
                                      "title": {"display": True, "text": "ROAS"}}}}}  # fmt: skip
    chans = [ch for ch in channels if ch.metrics.currency == currency]
    names = [ch.channel for ch in chans]
    by_channel = {"type": "bar", "data": {"labels": names, "datasets": [
        {"label": "Clicks", "data": [ch.metrics.clicks for ch in chans], "backgroundColor": PALETTE[1]},
        {"label": "Conversions", "data": [ch.metrics.conversions for ch in chans], "backgroundColor": PALETTE[2]},
        {"label": f"Spend ({currency})", "data": [float(ch.metrics.spend) for ch in chans],
         "backgroundColor": PALETTE[3]},
    ]}}  # fmt: skip
    return {"chart-volume": volume, "chart-spend": spend, "chart-ratios": ratios, "chart-channels": by_channel}
