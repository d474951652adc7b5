"""Analytics planners: campaign performance, comparisons and rankings, campaign lists and details (read-only)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from agents.offline.dates import find_period
from agents.offline.matching import suggestions
from agents.offline.plans.common import campaign_system, campaigns, mentioned_campaigns, ok_data
from agents.offline.render import bullets, day, listing, money, money_of, number, pct, ratio
from agents.offline.router import own_words
from agents.offline.slots import blank, find_campaign_type, find_channels, find_system, find_tier
from agents.offline.transcript import PlanContext

PERF = "spine__performance_summary"
# "the Spring Product Launch campaign": a Title Case name right before the word campaign.
_NAMED_CAMPAIGN_RE = re.compile(r"\b((?:[A-Z0-9][\w&'.-]*\s+){0,6}[A-Z0-9][\w&'.-]*)\s+campaign\b")
# metric -> (label, higher is better, kind)
METRICS: dict[str, tuple[str, bool, str]] = {
    "roas": ("ROAS", True, "ratio"), "ctr": ("CTR", True, "pct"), "cvr": ("conversion rate", True, "pct"),
    "cpa": ("CPA", False, "money"), "spend": ("spend", True, "money"), "revenue": ("revenue", True, "money"),
    "conversions": ("conversions", True, "count"), "clicks": ("clicks", True, "count"),
    "impressions": ("impressions", True, "count"),
}  # fmt: skip
_METRIC_WORDS = [("roas", r"\broas\b|return on ad spend"), ("ctr", r"\bctr\b|click[- ]through"),
                 ("cvr", r"\bcvr\b|conversion rates?"), ("cpa", r"\bcpa\b|cost per (acquisition|conversion)"),
                 ("revenue", r"\brevenue\b"), ("conversions", r"\bconversions?\b"), ("clicks", r"\bclicks?\b"),
                 ("impressions", r"\bimpressions?\b"), ("spend", r"\bspen[dt]\b|\bcosts?\b")]  # fmt: skip


def _metric(text: str) -> str:
    for key, pattern in _METRIC_WORDS:
        if re.search(pattern, text, re.I):
            return key
    return "roas"


def _value(m: dict[str, Any], key: str) -> str:
    kind = METRICS[key][2]
    v = m.get(key)
    if kind == "ratio":
        return ratio(v)
    if kind == "pct":
        return pct(v)
    if kind == "money":
        return money(v, m.get("currency")) if v is not None else "n/a"
    return number(v)


def _summary(m: dict[str, Any]) -> str:
    return (f"spend {_value(m, 'spend')}, revenue {_value(m, 'revenue')}, ROAS {_value(m, 'roas')}; "
            f"{number(m.get('impressions'))} impressions, {number(m.get('clicks'))} clicks "
            f"(CTR {pct(m.get('ctr'))}), {number(m.get('conversions'))} conversions (CVR {pct(m.get('cvr'))}), "
            f"CPA {_value(m, 'cpa')}")  # fmt: skip


def _period(text: str, today: dt.date) -> tuple[dt.date | None, dt.date | None, str]:
    found = find_period(text, today)
    if found is None:
        return None, None, "to date"
    return found[0], found[1], f"{day(found[0])} to {day(found[1])}"


def _performance(ctx: PlanContext, ids: list[str] | None, text: str) -> tuple[dict[str, Any], str]:
    start, end, label = _period(text, ctx.today)
    data = ok_data(ctx, "Reading performance", PERF, start=start.isoformat() if start else None,
                   end=end.isoformat() if end else None, campaign_ids=ids)  # fmt: skip
    return data or {}, label


def campaign_performance(ctx: PlanContext) -> str:
    """spine__performance_summary for the named campaigns (or all), over the period the request names."""
    text, _ = own_words(ctx.request)
    items = campaigns(ctx)
    found = mentioned_campaigns(ctx.request, items)
    rest = blank(text, found.spans)
    ids = [c["id"] for c in found.items] or None
    named = _NAMED_CAMPAIGN_RE.search(text)
    if ids is None and named is not None:
        # The user named one campaign we don't have: totals of all campaigns would answer another question.
        hint = suggestions(named.group(1), [c["name"] for c in items])
        also = f" Did you mean {listing(hint, 'or')}?" if hint else ""
        return f"I couldn't find a campaign named “{named.group(1)}”.{also}"
    data, label = _performance(ctx, ids, rest)
    channels = find_channels(rest)
    if channels:
        return _by_channel(data, channels, label, _metric(rest), [c["name"] for c in found.items])
    rows = {r["campaign_id"]: r for r in data.get("by_campaign") or []}
    if found.items:
        out = []
        for c in found.items:
            r = rows.get(c["id"])
            if r is None:
                out.append(
                    f"{c['name']} has no measurements {label} (status {c['status']}, launch {day(c['launch_date'])})."
                )
                continue
            budget = c.get("budget_planned")
            spent = f"; budget {money_of(budget)}" if budget else ""
            out.append(f"**{c['name']}** ({label}): {_summary(r['metrics'])}{spent}.")
        return "\n".join(out)
    totals = data.get("totals") or []
    if not totals:
        return f"There are no measurements {label}."
    lines = [f"All campaigns ({label}), in {t.get('currency') or 'no currency'}: {_summary(t)}." for t in totals]
    ranked = sorted(rows.values(), key=lambda r: Decimal(str(r["metrics"].get("revenue") or 0)), reverse=True)[:3]
    if ranked:
        lines.append("Top campaigns by revenue: " + listing(
            [f"{r['name']} ({_value(r['metrics'], 'revenue')}, ROAS {_value(r['metrics'], 'roas')})" for r in ranked]
        ) + ".")  # fmt: skip
    channels = sorted(data.get("by_channel") or [], key=lambda ch: Decimal(str(ch["metrics"].get("revenue") or 0)),
                      reverse=True)  # fmt: skip
    if channels and re.search(r"\bchannels?\b", text, re.I):
        lines.append("By channel (revenue): " + listing(
            [f"{ch['channel']} {_value(ch['metrics'], 'revenue')} ({number(ch['metrics'].get('conversions'))} "
             f"conversions)" for ch in channels]) + ".")  # fmt: skip
    return "\n".join(lines)


def _channel_label(code: str) -> str:
    return code.replace("_", " ")


def _by_channel(data: dict[str, Any], channels: list[str], period: str, key: str, names: list[str]) -> str:
    """The named channels' figures from the summary's by-channel section (for the named campaigns, else all), and
    with two or more, which one does best on the metric asked about (ROAS when none is named)."""
    scope = f" for {listing(names)}" if names else ""
    lines, present = [], []
    for code in channels:
        rows = [ch for ch in data.get("by_channel") or [] if ch["channel"] == code]  # one per currency
        if not rows:
            lines.append(f"**{_channel_label(code)}**{scope} has no measurements {period}.")
        for row in rows:
            present.append(row)
            cur = f", in {row['metrics'].get('currency')}" if len(rows) > 1 else ""
            lines.append(f"**{_channel_label(code)}**{scope} ({period}{cur}): {_summary(row['metrics'])}.")
    label, higher_better, _ = METRICS[key]
    valued = [r for r in present if r["metrics"].get(key) is not None]
    if len(valued) >= 2:
        best = sorted(valued, key=lambda r: Decimal(str(r["metrics"][key])), reverse=higher_better)[0]
        currencies = {r["metrics"].get("currency") for r in valued}
        warn = " (different currencies; money figures are not converted)" if len(currencies) > 1 else ""
        lines.append(f"On {label}, {_channel_label(best['channel'])} does better "
                     f"({_value(best['metrics'], key)}){warn}.")  # fmt: skip
    return "\n".join(lines)


def _filtered(items: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    tier = find_tier(text)
    kinds = {k for k, p in (("event", r"\bevents?\b"), ("partner", r"\bpartners?\b"),
                            ("product_launch", r"\blaunch(es)?\b"), ("standard", r"\bstandard\b"))
             if re.search(p, text, re.I)}  # fmt: skip
    out = [c for c in items if (tier is None or c.get("tier") == tier) and (not kinds or c.get("type") in kinds)]
    return out


def compare_campaigns(ctx: PlanContext) -> str:
    """Two or more named campaigns side by side, or every campaign (optionally by tier/type) ranked by a metric."""
    text, _ = own_words(ctx.request)
    items = campaigns(ctx)
    found = mentioned_campaigns(ctx.request, items)
    rest = blank(text, found.spans)
    key = _metric(rest)
    label, higher_better, _ = METRICS[key]
    lowest = bool(re.search(r"\b(lowest|least|worst|smallest|cheapest)\b", rest, re.I))
    channels = find_channels(rest)
    if len(found.items) < 2 and len(channels) >= 2:  # "email vs paid media": a comparison of channels
        ids = [c["id"] for c in found.items] or None
        data, period = _performance(ctx, ids, rest)
        return _by_channel(data, channels, period, key, [c["name"] for c in found.items])
    chosen = found.items if len(found.items) >= 2 else _filtered(items, rest)
    data, period = _performance(ctx, [c["id"] for c in chosen] if len(found.items) >= 2 else None, rest)
    wanted = {c["id"] for c in chosen}
    rows = [r for r in data.get("by_campaign") or [] if r["campaign_id"] in wanted]
    if not rows:
        return f"None of {listing([c['name'] for c in found.items]) or 'those campaigns'} has measurements {period}."
    reverse = higher_better != lowest
    present = [r for r in rows if r["metrics"].get(key) is not None]
    ranked = sorted(present, key=lambda r: Decimal(str(r["metrics"][key])), reverse=reverse)
    missing = [r["name"] for r in rows if r["metrics"].get(key) is None]
    currencies = {r["metrics"].get("currency") for r in ranked}
    warn = " (they report in different currencies; money figures are not converted)" if len(currencies) > 1 else ""
    if len(found.items) >= 2:
        by_id = {r["campaign_id"]: r for r in rows}
        lines = [f"**{c['name']}** ({period}): {_summary(by_id[c['id']]['metrics'])}." if c["id"] in by_id else
                 f"**{c['name']}** has no measurements {period} (status {c['status'].replace('_', ' ')}, launch "
                 f"{day(c['launch_date'])})." for c in found.items]  # fmt: skip
        if ranked:
            lines.append(f"On {label}, {ranked[0]['name']} does best ({_value(ranked[0]['metrics'], key)}){warn}.")
        return "\n".join(lines + ([f"No {label} for {listing(missing)}."] if missing else []))
    m = re.search(r"\btop\s+(\d+)\b", rest, re.I)
    limit = int(m.group(1)) if m else 10
    order = "lowest" if not reverse else "highest"
    head = f"Campaigns ranked by {label}, {order} first ({period}){warn}:"
    body = bullets(f"{r['name']}: {_value(r['metrics'], key)} (spend {_value(r['metrics'], 'spend')})"
                   for r in ranked[:limit])  # fmt: skip
    return f"{head}\n{body}" + (f"\nNo {label} for {listing(missing)}." if missing else "")


_STATUS_WORDS = [("in_progress", r"in progress|running|active|live"), ("launched", r"launched|running|live|active"),
                 ("planning", r"planning|planned"), ("on_hold", r"on hold|paused"),
                 ("completed", r"completed|finished"), ("draft", r"\bdrafts?\b"), ("approved", r"\bapproved\b"),
                 ("cancelled", r"cancell?ed")]  # fmt: skip


def _detail(ctx: PlanContext, c: dict[str, Any]) -> str:
    refs = c.get("external_refs") or {}
    runs_in = campaign_system(c, ctx.routing)
    systems = listing([f"{k} {v}" for k, v in refs.items()]) or f"no project yet (runs in {runs_in})"
    return (f"**{c['name']}**: {c['type'].replace('_', ' ')} campaign, tier {c['tier']}, status {c['status']}; "
            f"launch {day(c['launch_date'])}, end {day(c.get('end_date'))}; owner {c['owner_id']}; "
            f"budget {money_of(c.get('budget_planned'))} planned, {money_of(c.get('budget_spent'))} spent; "
            f"channels {listing(c.get('channels') or []) or 'none'}; {systems}; id {c['id']}.")  # fmt: skip


def list_campaigns(ctx: PlanContext) -> str:
    """Details of a named campaign (and its tracking keys when asked), or a filtered list of campaigns."""
    text, _ = own_words(ctx.request)
    items = campaigns(ctx)
    found = mentioned_campaigns(ctx.request, items)
    if found.items and found.matches[0].score >= 0.6:
        c = found.items[0]
        out = _detail(ctx, c)
        if re.search(r"tracking|utm|keys?", text, re.I) and ctx.has("spine__get_tracking_keys"):
            keys = ok_data(ctx, "Reading tracking keys", "spine__get_tracking_keys", campaign_id=c["id"])
            out += (f"\nTracking keys: Adobe {keys.get('adobe_analytics')}, Google {keys.get('google_analytics')}, "
                    f"internal {keys.get('internal_metrics')}; UTM {keys.get('utm_template')}.")  # fmt: skip
        return out
    rest = blank(text, found.spans)
    tier, kind, system = (
        find_tier(rest),
        find_campaign_type(rest) if "campaign" in rest.lower() else None,
        find_system(rest),
    )
    if kind == "standard" and not re.search(r"\bstandard\b", rest, re.I):
        kind = None  # "brand" or "promo" in a question is no filter
    statuses = {s for s, p in _STATUS_WORDS if re.search(p, rest, re.I)}
    period = find_period(rest, ctx.today) if re.search(r"\blaunch", rest, re.I) else None
    rows = [c for c in items if (tier is None or c["tier"] == tier) and (kind is None or c["type"] == kind)
            and (not statuses or c["status"] in statuses)
            and (system is None or campaign_system(c, ctx.routing) == system)
            and (period is None or period[0].isoformat() <= c["launch_date"] <= period[1].isoformat())]  # fmt: skip
    filters = [f"tier {tier}" if tier else "", kind.replace("_", " ") if kind else "",
               listing([s.replace("_", " ") for s in sorted(statuses)], "or"),
               f"in {system.title()}" if system else "", "launching in that period" if period else ""]  # fmt: skip
    scope = " ".join(f for f in filters if f)
    if not rows:
        return f"No campaigns match ({scope or 'none visible'})."
    head = f"{len(rows)} campaign{'s' if len(rows) != 1 else ''}{' (' + scope + ')' if scope else ''}:"
    return head + "\n" + bullets(
        f"{c['name']} — {c['type'].replace('_', ' ')}, tier {c['tier']}, {c['status'].replace('_', ' ')}, "
        f"launch {day(c['launch_date'])}, budget {money_of(c.get('budget_planned'))}" for c in rows[:25]
    )  # fmt: skip
