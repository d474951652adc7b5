"""Measurement import: match export rows to campaigns by tracking key and append them idempotently.

One call handles one file inside the caller's transaction: it writes nothing when any row is bad (every bad value
is reported with its line and column), appends each new row once under its natural key (campaign, date, channel,
segment, source system, source key), so a re-import appends nothing, and rolls ``budget_spent`` up from the
measured spend of every campaign it touched (analytics owns that field in the authority matrix). Rows whose key
matches no campaign, or several, are reported with the key and the systems tried, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spine.authority import Owner, rule_for
from spine.models import Campaign, CampaignTrackingKeys, Measurement
from spine.repositories import SpineStore
from sync.measurements_formats import KEY_SYSTEMS, SOURCE_SYSTEM, ParsedFile, ParsedRow, RowError

CHUNK = 5000  # rows per bulk insert
_COMPARED = ("impressions", "clicks", "conversions", "spend", "revenue_attributed")


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A row no campaign claims: the key that failed, the tracking systems tried, and why."""

    line: int
    key: str
    key_systems: tuple[str, ...]
    reason: str


@dataclass(slots=True)
class ImportReport:
    format: str
    source_system: str
    rows_read: int = 0
    imported: int = 0
    already_present: int = 0
    totals_skipped: int = 0
    restated: list[int] = field(default_factory=list)  # lines whose key exists with other values (kept as stored)
    unmatched: list[Unmatched] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    budget_spent: dict[str, str | None] = field(default_factory=dict)  # campaign id -> rolled-up amount
    rollup_skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "source_system": self.source_system,
            "rows_read": self.rows_read,
            "imported": self.imported,
            "already_present": self.already_present,
            "totals_skipped": self.totals_skipped,
            "restated_lines": list(self.restated),
            "unmatched": [
                {"line": u.line, "key": u.key, "key_systems": list(u.key_systems), "reason": u.reason}
                for u in self.unmatched
            ],
            "errors": [{"line": e.line, "column": e.column, "message": e.message} for e in self.errors],
            "budget_spent": dict(self.budget_spent),
            "rollup_skipped": self.rollup_skipped,
        }


def _key_index(session: Session, tenant_id: str) -> dict[str, dict[str, list[str]]]:
    """tracking system -> casefolded key -> campaign ids of the tenant (several when two campaigns share a key)."""
    index: dict[str, dict[str, list[str]]] = {s: {} for s in KEY_SYSTEMS}
    cols = [getattr(CampaignTrackingKeys, s) for s in KEY_SYSTEMS]
    rows = session.execute(
        select(CampaignTrackingKeys.campaign_id, *cols).where(CampaignTrackingKeys.tenant_id == tenant_id)
    )
    for cid, *keys in rows:
        for system, key in zip(KEY_SYSTEMS, keys, strict=True):
            if key:
                index[system].setdefault(key.casefold(), []).append(cid)
    return index


def _match(row: ParsedRow, index: dict[str, dict[str, list[str]]]) -> tuple[str | None, str]:
    """(campaign id, "") or (None, why); the first system that knows the key decides."""
    for system in row.key_systems:
        hits = index[system].get(row.key.casefold(), [])
        if len(hits) == 1:
            return hits[0], ""
        if hits:
            return None, f"{system} key is shared by campaigns {sorted(hits)}; give one campaign its own key"
    return None, "no campaign of the tenant has this tracking key"


def _natural_key(campaign_id: str, d: Any, channel: str, segment: str | None, source_key: str) -> tuple[Any, ...]:
    return (campaign_id, d, channel, segment or "", source_key)


def _existing(
    session: Session, tenant_id: str, source_system: str, campaign_ids: Iterable[str], rows: list[ParsedRow]
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Natural key -> compared values of rows already stored for these campaigns and dates."""
    ids = list(campaign_ids)
    if not ids or not rows:
        return {}
    first, last = min(r.date for r in rows), max(r.date for r in rows)
    stmt = select(
        Measurement.campaign_id, Measurement.date, Measurement.channel, Measurement.segment,
        Measurement.source_campaign_key, *(getattr(Measurement, c) for c in _COMPARED),
    ).where(
        Measurement.tenant_id == tenant_id, Measurement.source_system == source_system,
        Measurement.campaign_id.in_(ids), Measurement.date >= first, Measurement.date <= last,
    )  # fmt: skip
    out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for cid, d, channel, segment, key, *values in session.execute(stmt):
        out[_natural_key(cid, d, channel, segment, key)] = _normal(values)
    return out


def _normal(values: Iterable[Any]) -> tuple[Any, ...]:
    # Money compares by value (Numeric(18,4) comes back with trailing zeros); None stays None.
    return tuple(None if v is None else Decimal(str(v)).normalize() for v in values)


def _campaign_currencies(session: Session, tenant_id: str, ids: Iterable[str]) -> dict[str, str | None]:
    """The currency each campaign's spend must be in: its planned budget's, else that of its stored spend."""
    ids = list(ids)
    out: dict[str, str | None] = dict(
        session.execute(select(Campaign.id, Campaign.budget_planned_currency).where(Campaign.id.in_(ids))).all()
    )
    stored = session.execute(
        select(Measurement.campaign_id, Measurement.currency)
        .where(Measurement.tenant_id == tenant_id, Measurement.campaign_id.in_(ids), Measurement.spend.is_not(None))
        .distinct()
    )
    for cid, cur in stored:
        out[cid] = out.get(cid) or cur
    return out


def import_measurements(
    session: Session,
    tenant_id: str,
    parsed: ParsedFile,
    *,
    default_currency: str | None = None,
    actor: str = "analytics-import",
) -> ImportReport:
    """Match, check and append the rows of one parsed file; writes nothing when ``report.errors`` is non-empty.

    The caller owns the transaction (commit on ``report.ok``, roll back for a dry run or on errors).
    """
    store = SpineStore(session, tenant_id)
    source = SOURCE_SYSTEM[parsed.format]
    report = ImportReport(format=parsed.format, source_system=source, totals_skipped=parsed.totals_skipped)
    report.rows_read = len(parsed.rows) + len(parsed.errors)
    report.errors.extend(parsed.errors)
    index = _key_index(session, tenant_id)
    matched: list[tuple[ParsedRow, str]] = []
    for row in parsed.rows:
        cid, why = _match(row, index)
        if cid is None:
            report.unmatched.append(Unmatched(row.line, row.key, row.key_systems, why))
        else:
            matched.append((row, cid))
    campaign_ids = {cid for _, cid in matched}
    currencies = _campaign_currencies(session, tenant_id, campaign_ids)
    existing = _existing(session, tenant_id, source, campaign_ids, [r for r, _ in matched])
    seen: dict[tuple[Any, ...], int] = {}
    new_rows: list[dict[str, Any]] = []
    for row, cid in matched:
        currency = row.currency or currencies.get(cid) or default_currency or "USD"
        if row.spend is not None and currencies.get(cid) and currency != currencies[cid]:
            report.errors.append(RowError(row.line, "currency", f"{currency} spend on a campaign budgeted in "
                                          f"{currencies[cid]}; convert it to {currencies[cid]} first"))  # fmt: skip
            continue
        nk = _natural_key(cid, row.date, row.channel, row.segment, row.key)
        if nk in seen:
            report.errors.append(RowError(row.line, "*", f"same campaign, date, channel and segment as line "
                                          f"{seen[nk]}; add a segment column or merge the rows"))  # fmt: skip
            continue
        seen[nk] = row.line
        values = {"impressions": row.impressions, "clicks": row.clicks, "conversions": row.conversions,
                  "spend": row.spend, "revenue_attributed": row.revenue}  # fmt: skip
        if nk in existing:
            report.already_present += 1
            if existing[nk] != _normal(values[c] for c in _COMPARED):
                report.restated.append(row.line)
            continue
        new_rows.append({
            "campaign_id": cid, "date": row.date, "channel": row.channel, "segment": row.segment,
            "sessions": row.sessions, "unique_visitors": row.unique_visitors, "page_views": row.page_views,
            "bounce_rate": row.bounce_rate, "currency": currency, "source_system": source,
            "source_campaign_key": row.key, **values,
        })  # fmt: skip
    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report
    for start in range(0, len(new_rows), CHUNK):
        report.imported += store.measurements.append(new_rows[start : start + CHUNK], actor=actor)
    _roll_up(store, report, {r["campaign_id"] for r in new_rows if r["spend"] is not None}, source)
    return report


def _roll_up(store: SpineStore, report: ImportReport, campaign_ids: set[str], source: str) -> None:
    """budget_spent := the campaign's measured spend, only while the authority matrix gives it to analytics."""
    rule = rule_for("campaign.budget_spent")
    if rule.owner is not Owner.ANALYTICS:
        report.rollup_skipped = f"campaign.budget_spent is owned by {rule.describe_owner()}, not analytics"
        return
    for cid in sorted(campaign_ids):
        out = store.campaigns.refresh_budget_spent(cid)
        report.budget_spent[cid] = None if out.budget_spent is None else str(out.budget_spent.amount)
        store.sync.record("campaign", cid, source, ["budget_spent"], source=source)
