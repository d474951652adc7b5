"""Campaign performance in SQL: totals and CTR / CVR / CPA / ROAS per campaign and per channel.

All aggregation is GROUP BY in the database; ratios divide by NULLIF(..., 0) so a zero denominator
gives None. CTR = clicks/impressions, CVR = conversions/clicks, CPA = spend/conversions,
ROAS = revenue/spend (revenue = revenue_attributed). Money is summed per currency, never across.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Numeric, Select, cast, func, literal_column, select
from sqlalchemy.orm import Session

from spine.errors import ValidationError
from spine.models import Campaign, Measurement
from spine.repositories.directory import get_tenant

_Q4 = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Metrics:
    impressions: int
    clicks: int
    conversions: int
    spend: Decimal
    revenue: Decimal
    currency: str | None
    ctr: float | None
    cvr: float | None
    cpa: Decimal | None
    roas: float | None


@dataclass(frozen=True, slots=True)
class CampaignPerformance:
    campaign_id: str
    name: str
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class ChannelPerformance:
    channel: str
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class PerformanceSummary:
    start: dt.date | None
    end: dt.date | None
    totals: list[Metrics]  # one per currency
    by_campaign: list[CampaignPerformance]
    by_channel: list[ChannelPerformance]


def _aggregates() -> list[Any]:
    imps = func.coalesce(func.sum(Measurement.impressions), 0)
    clicks = func.coalesce(func.sum(Measurement.clicks), 0)
    convs = func.coalesce(func.sum(Measurement.conversions), 0)
    spend = func.coalesce(func.sum(Measurement.spend), 0)
    revenue = func.coalesce(func.sum(Measurement.revenue_attributed), 0)
    return [
        imps.label("impressions"),
        clicks.label("clicks"),
        convs.label("conversions"),
        cast(spend, Numeric(18, 4)).label("spend"),
        cast(revenue, Numeric(18, 4)).label("revenue"),
        (cast(clicks, Float) / func.nullif(imps, 0)).label("ctr"),
        (cast(convs, Float) / func.nullif(clicks, 0)).label("cvr"),
        (cast(spend, Float) / func.nullif(convs, 0)).label("cpa"),
        (cast(revenue, Float) / func.nullif(cast(spend, Float), 0)).label("roas"),
    ]


def _metrics(row: Any) -> Metrics:
    return Metrics(
        impressions=int(row.impressions),
        clicks=int(row.clicks),
        conversions=int(row.conversions),
        spend=Decimal(str(row.spend)).quantize(_Q4),
        revenue=Decimal(str(row.revenue)).quantize(_Q4),
        currency=row.currency,
        ctr=None if row.ctr is None else float(row.ctr),
        cvr=None if row.cvr is None else float(row.cvr),
        cpa=None if row.cpa is None else Decimal(str(row.cpa)).quantize(_Q4),
        roas=None if row.roas is None else float(row.roas),
    )


def _scoped(stmt: Select[Any], tenant_id: str, start: dt.date | None, end: dt.date | None) -> Select[Any]:
    stmt = stmt.where(Measurement.tenant_id == tenant_id)
    if start is not None:
        stmt = stmt.where(Measurement.date >= start)
    if end is not None:
        stmt = stmt.where(Measurement.date <= end)
    return stmt


def _check(session: Session, tenant_id: str, start: dt.date | None, end: dt.date | None) -> None:
    get_tenant(session, tenant_id)
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, dt.date) or isinstance(value, dt.datetime)):
            raise ValidationError(name, f"{value!r} is not a date", "pass a datetime.date")
    if start is not None and end is not None and end < start:
        raise ValidationError("end", "end is before start", "swap the dates")


def campaign_performance(
    session: Session,
    tenant_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    campaign_ids: list[str] | None = None,
    channel: str | None = None,
) -> list[CampaignPerformance]:
    """One row per (campaign, currency) with measurements in [start, end], by spend descending."""
    _check(session, tenant_id, start, end)
    agg = _scoped(select(Measurement.campaign_id, Measurement.currency, *_aggregates()), tenant_id, start, end)
    if campaign_ids is not None:
        agg = agg.where(Measurement.campaign_id.in_(campaign_ids))
    if channel is not None:
        agg = agg.where(Measurement.channel == channel)
    sub = agg.group_by(Measurement.campaign_id, Measurement.currency).subquery()
    stmt = (
        select(sub, Campaign.name)
        .join(Campaign, Campaign.id == sub.c.campaign_id)
        .order_by(sub.c.spend.desc(), literal_column("campaign_id"))
    )
    return [CampaignPerformance(r.campaign_id, r.name, _metrics(r)) for r in session.execute(stmt)]


def channel_performance(
    session: Session,
    tenant_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    campaign_id: str | None = None,
) -> list[ChannelPerformance]:
    """One row per (channel, currency) (optionally for one campaign), ordered by channel."""
    _check(session, tenant_id, start, end)
    stmt = _scoped(select(Measurement.channel, Measurement.currency, *_aggregates()), tenant_id, start, end)
    if campaign_id is not None:
        stmt = stmt.where(Measurement.campaign_id == campaign_id)
    stmt = stmt.group_by(Measurement.channel, Measurement.currency).order_by(Measurement.channel, Measurement.currency)
    return [ChannelPerformance(r.channel, _metrics(r)) for r in session.execute(stmt)]


def totals(
    session: Session,
    tenant_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    campaign_id: str | None = None,
) -> list[Metrics]:
    """Tenant-wide (or one campaign's) totals over the range: one entry per currency (money never mixes)."""
    _check(session, tenant_id, start, end)
    stmt = _scoped(select(Measurement.currency, *_aggregates()), tenant_id, start, end)
    if campaign_id is not None:
        stmt = stmt.where(Measurement.campaign_id == campaign_id)
    stmt = stmt.group_by(Measurement.currency).order_by(Measurement.currency)
    return [_metrics(r) for r in session.execute(stmt)]


def _ratio(num: float | Decimal, den: float | Decimal) -> float | None:
    return None if not den else float(num) / float(den)


def _combine(group: list[tuple[int, int, int, Decimal, Decimal]], currency: str | None) -> Metrics:
    """Metrics from already-aggregated sums (a few thousand groups at most, never per measurement)."""
    imps = sum(g[0] for g in group)
    clicks = sum(g[1] for g in group)
    convs = sum(g[2] for g in group)
    spend = sum((g[3] for g in group), Decimal(0)).quantize(_Q4)
    revenue = sum((g[4] for g in group), Decimal(0)).quantize(_Q4)
    return Metrics(
        impressions=imps,
        clicks=clicks,
        conversions=convs,
        spend=spend,
        revenue=revenue,
        currency=currency,
        ctr=_ratio(clicks, imps),
        cvr=_ratio(convs, clicks),
        cpa=None if not convs else (spend / convs).quantize(_Q4),
        roas=_ratio(revenue, spend),
    )


def _rollup(parts: list[Metrics]) -> list[Metrics]:
    """Per-currency totals from already-aggregated rows (one per campaign, never per measurement)."""
    by_currency: dict[str | None, list[tuple[int, int, int, Decimal, Decimal]]] = {}
    for m in parts:
        by_currency.setdefault(m.currency, []).append((m.impressions, m.clicks, m.conversions, m.spend, m.revenue))
    return [_combine(by_currency[c], c) for c in sorted(by_currency, key=lambda c: c or "")]


def _metric_sums() -> list[Any]:
    """The summed metric columns of a GROUP BY scan: impressions, clicks, conversions, spend, revenue."""
    return [
        func.coalesce(func.sum(Measurement.impressions), 0),
        func.coalesce(func.sum(Measurement.clicks), 0),
        func.coalesce(func.sum(Measurement.conversions), 0),
        cast(func.coalesce(func.sum(Measurement.spend), 0), Numeric(18, 4)),
        cast(func.coalesce(func.sum(Measurement.revenue_attributed), 0), Numeric(18, 4)),
    ]


def performance_summary(
    session: Session,
    tenant_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    campaign_ids: Collection[str] | None = None,
) -> PerformanceSummary:
    """Totals, per-campaign and per-channel metrics of a tenant (or of ``campaign_ids``) over [start, end].

    One GROUP BY scan over (campaign, channel, currency) in SQL; campaigns, channels and totals are rolled up
    from those few thousand sums, never from measurement rows.
    """
    _check(session, tenant_id, start, end)
    sums = _metric_sums()
    keys = (Measurement.campaign_id, Measurement.channel, Measurement.currency)
    stmt = _scoped(select(*keys, *sums), tenant_id, start, end)
    if campaign_ids is not None:
        stmt = stmt.where(Measurement.campaign_id.in_(list(campaign_ids)))
    stmt = stmt.group_by(*keys)
    by_camp: dict[tuple[str, str | None], list[tuple[int, int, int, Decimal, Decimal]]] = {}
    by_chan: dict[tuple[str, str | None], list[tuple[int, int, int, Decimal, Decimal]]] = {}
    by_cur: dict[str | None, list[tuple[int, int, int, Decimal, Decimal]]] = {}
    for cid, channel, currency, imps, clicks, convs, spend, revenue in session.execute(stmt):
        part = (int(imps), int(clicks), int(convs), Decimal(str(spend)), Decimal(str(revenue)))
        by_camp.setdefault((cid, currency), []).append(part)
        by_chan.setdefault((channel, currency), []).append(part)
        by_cur.setdefault(currency, []).append(part)
    names = dict(session.execute(select(Campaign.id, Campaign.name).where(Campaign.tenant_id == tenant_id)).all())
    campaigns = [CampaignPerformance(cid, names.get(cid, ""), _combine(g, cur)) for (cid, cur), g in by_camp.items()]
    campaigns.sort(key=lambda c: (-c.metrics.spend, c.campaign_id))
    channels = [ChannelPerformance(ch, _combine(g, cur)) for (ch, cur), g in sorted(by_chan.items(), key=_chan_key)]
    return PerformanceSummary(
        start=start,
        end=end,
        totals=[_combine(by_cur[c], c) for c in sorted(by_cur, key=lambda c: c or "")],
        by_campaign=campaigns,
        by_channel=channels,
    )


def _chan_key(item: tuple[tuple[str, str | None], object]) -> tuple[str, str]:
    (channel, currency), _ = item
    return channel, currency or ""


@dataclass(frozen=True, slots=True)
class DailyPerformance:
    date: dt.date
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class CampaignBreakdown:
    totals: list[Metrics]  # one per currency
    by_channel: list[ChannelPerformance]
    daily: list[DailyPerformance]  # one per (date, currency), oldest first: the time series


def campaign_breakdown(
    session: Session, tenant_id: str, campaign_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> CampaignBreakdown:
    """One campaign's totals, per-channel and per-day metrics from ONE GROUP BY (date, channel, currency) scan,
    rolled up from those sums (a campaign page needs all three)."""
    _check(session, tenant_id, start, end)
    sums = _metric_sums()
    keys = (Measurement.date, Measurement.channel, Measurement.currency)
    stmt = _scoped(select(*keys, *sums), tenant_id, start, end).where(Measurement.campaign_id == campaign_id)
    # Running sums per group (one part each for _combine): a page view folds ~100 days x channels, not more.
    by_day: dict[tuple[dt.date, str | None], list[tuple[int, int, int, Decimal, Decimal]]] = {}
    by_chan: dict[tuple[str, str | None], list[tuple[int, int, int, Decimal, Decimal]]] = {}
    by_cur: dict[str | None, list[tuple[int, int, int, Decimal, Decimal]]] = {}
    for day, channel, currency, imps, clicks, convs, spend, revenue in session.execute(stmt.group_by(*keys)):
        part = (int(imps), int(clicks), int(convs), Decimal(str(spend)), Decimal(str(revenue)))
        for groups, key in ((by_day, (day, currency)), (by_chan, (channel, currency)), (by_cur, currency)):
            acc = groups.get(key)  # type: ignore[attr-defined]
            groups[key] = [part] if acc is None else [tuple(a + b for a, b in zip(acc[0], part, strict=True))]  # type: ignore[index]
    days = sorted(by_day.items(), key=lambda i: (i[0][0], i[0][1] or ""))
    return CampaignBreakdown(
        totals=[_combine(by_cur[c], c) for c in sorted(by_cur, key=lambda c: c or "")],
        by_channel=[
            ChannelPerformance(ch, _combine(g, cur)) for (ch, cur), g in sorted(by_chan.items(), key=_chan_key)
        ],
        daily=[DailyPerformance(d, _combine(g, cur)) for (d, cur), g in days],
    )
