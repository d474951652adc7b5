"""Measurement import from Adobe Analytics, GA4 and plain CSV exports, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from spine.db import transaction
from spine.models import Campaign, EventLog, Measurement
from spine.repositories import SpineStore, create_tenant
from sync.measurements import import_measurements
from sync.measurements_formats import parse_export

T = "acme-measure"

ADOBE = """#=================================================================
# Freeform table
# Report suite: acme-prod
#=================================================================
Tracking Code,Day,Marketing Channel,Visits,Unique Visitors,Orders,Revenue,AMO Cost
{adobe},"Mar 1, 2027",Email,1200,1000,30,"$4,500.00",250.00
{adobe},"Mar 2, 2027",Paid Search,900,800,12,1800.50,"1,100.00"
unknown_campaign_2027,"Mar 2, 2027",Email,10,9,0,0,0
Total,,,2110,1809,42,6300.50,1350
"""

GA4_HEADER = (
    "Session campaign,Date,Session default channel group,Sessions,Total users,Key events,Total revenue,"
    "Google Ads impressions,Google Ads clicks,Google Ads cost"
)
GA4 = """# ----------------------------------------
# Acme - GA4
# Start date: 20270301
# End date: 20270302
# ----------------------------------------
HEADER
{google},20270301,Paid Search,500,450,20,900,10000,700,320.25
{google},20270302,Organic Social,300,280,5,150,0,0,0
(not set),20270302,Direct,80,70,0,0,0,0,0
,,,880,800,25,1050,10000,700,320.25
""".replace("HEADER", GA4_HEADER)


def _campaign(store: SpineStore, name: str, **extra: Any) -> str:
    data = {"name": name, "type": "product_launch", "tier": 1, "launch_date": "2027-03-01", "owner_id": "maya.chen",
            "budget_planned": {"amount": "50000", "currency": "USD"}, **extra}  # fmt: skip
    return store.campaigns.create(data, actor="t").id


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    with transaction(session_factory) as s:
        create_tenant(s, T, "Acme Measure")
        store = SpineStore(s, T)
        store.directory.add_user({"user_id": "maya.chen", "display_name": "Maya", "email": "maya@acme.test"})
        spring = _campaign(store, "Spring Launch")
        gala = _campaign(store, "Partner Gala")
        keys = store.tracking.get(spring)
    return {"factory": session_factory, "spring": spring, "gala": gala, "adobe": keys.adobe_analytics,
            "google": keys.google_analytics, "internal": keys.internal_metrics}  # fmt: skip


def _import(world: dict[str, Any], text: str, fmt: str | None = None, **kw: Any) -> Any:
    with world["factory"]() as session, session.begin():
        report = import_measurements(session, T, parse_export(text, fmt), **kw)  # type: ignore[arg-type]
        if not report.ok:
            session.rollback()
        return report


def _count(world: dict[str, Any]) -> int:
    with world["factory"]() as s:
        return s.scalar(select(func.count()).select_from(Measurement)) or 0


def _spent(world: dict[str, Any], cid: str) -> tuple[Decimal | None, str | None]:
    with world["factory"]() as s:
        row = s.get(Campaign, cid)
        assert row is not None
        return row.budget_spent_amount, row.budget_spent_currency


def test_adobe_export_is_matched_summed_and_rolled_up_once(world: dict[str, Any]) -> None:
    text = ADOBE.format(adobe=world["adobe"])
    report = _import(world, text)
    assert report.ok and report.format == "adobe" and report.imported == 2
    assert report.totals_skipped == 1
    assert [(u.line, u.key, u.key_systems) for u in report.unmatched] == [
        (8, "unknown_campaign_2027", ("adobe_analytics",))
    ]
    with world["factory"]() as s:
        rows = s.scalars(select(Measurement).order_by(Measurement.date)).all()
        assert [(r.channel, r.sessions, r.unique_visitors, r.conversions) for r in rows] == [
            ("email", 1200, 1000, 30), ("paid_media", 900, 800, 12)]  # fmt: skip
        assert rows[0].revenue_attributed == Decimal("4500") and rows[1].spend == Decimal("1100")
        assert {r.source_system for r in rows} == {"adobe_analytics"}
    assert _spent(world, world["spring"]) == (Decimal("1350.00"), "USD")
    assert _spent(world, world["gala"]) == (None, None)

    again = _import(world, text)  # re-import: nothing appended, spend not doubled, nothing reported as restated
    assert again.ok and again.imported == 0 and again.already_present == 2 and again.restated == []
    assert _count(world) == 2 and _spent(world, world["spring"]) == (Decimal("1350.00"), "USD")


def test_ga4_export_with_comment_preamble_and_yyyymmdd_dates(world: dict[str, Any]) -> None:
    report = _import(world, GA4.format(google=world["google"].lower()))  # keys match case-insensitively
    assert report.ok and report.format == "ga4" and report.imported == 2 and report.totals_skipped == 1
    assert [(u.key, u.reason) for u in report.unmatched] == [
        ("(not set)", "no campaign of the tenant has this tracking key")
    ]
    with world["factory"]() as s:
        first = s.scalars(select(Measurement).order_by(Measurement.date)).first()
        assert first is not None and str(first.date) == "2027-03-01"
        assert (first.impressions, first.clicks, first.conversions, first.channel) == (10000, 700, 20, "paid_media")
        events = s.scalars(select(EventLog).where(EventLog.event_type == "measurement.collected")).all()
        assert [e.payload["rows"] for e in events] == [2]
    assert _spent(world, world["spring"]) == (Decimal("320.25"), "USD")


def test_restated_rows_are_reported_and_the_stored_rows_kept(world: dict[str, Any]) -> None:
    _import(world, GA4.format(google=world["google"]))
    changed = GA4.format(google=world["google"]).replace("320.25", "999.00")
    report = _import(world, changed)
    assert report.imported == 0 and report.restated == [7]
    assert _spent(world, world["spring"]) == (Decimal("320.25"), "USD")


def test_bad_values_name_line_and_column_and_store_nothing(world: dict[str, Any]) -> None:
    text = ADOBE.format(adobe=world["adobe"]).replace("1200,1000", "12x0,1000").replace('"Mar 2, 2027",Paid',
                                                                                         '"Smarch 2",Paid')  # fmt: skip
    report = _import(world, text)
    assert not report.ok
    assert [(e.line, e.column) for e in report.errors] == [(6, "Visits"), (7, "Day")]
    assert "12x0" in report.errors[0].message
    assert _count(world) == 0 and _spent(world, world["spring"]) == (None, None)


def test_plain_csv_tries_each_key_system_and_rejects_other_currency_spend(world: dict[str, Any]) -> None:
    text = (
        "tracking_key,key_system,date,channel,impressions,clicks,conversions,spend,currency\n"
        f"{world['internal']},,2027-03-03,email,100,10,1,5.00,USD\n"
        f"{world['adobe']},adobe_analytics,2027-03-03,social,50,5,0,2.50,\n"
    )
    report = _import(world, text)
    assert report.ok and report.imported == 2 and report.format == "csv"
    assert _spent(world, world["spring"]) == (Decimal("7.50"), "USD")
    eur = text.replace("5.00,USD", "5.00,EUR").replace("2027-03-03,email", "2027-03-04,email")
    bad = _import(world, eur)
    assert [(e.line, e.column) for e in bad.errors] == [(2, "currency")] and "USD" in bad.errors[0].message
    assert _count(world) == 2


def test_a_key_shared_by_two_campaigns_is_unmatched_not_guessed(world: dict[str, Any]) -> None:
    with transaction(world["factory"]) as s:
        twin = _campaign(SpineStore(s, T), "Spring Launch")  # same slug and year -> same Adobe key
    assert twin
    report = _import(world, ADOBE.format(adobe=world["adobe"]))
    assert report.imported == 0 and {u.key for u in report.unmatched} == {world["adobe"], "unknown_campaign_2027"}
    assert "shared by campaigns" in report.unmatched[0].reason


def test_duplicate_rows_in_one_file_and_bad_headers_are_errors(world: dict[str, Any]) -> None:
    row = f"{world['internal']},2027-01-01,email,3\n"
    report = _import(world, "tracking_key,date,channel,clicks\n" + row + row)
    assert [(e.line, e.column) for e in report.errors] == [(3, "*")] and "line 2" in report.errors[0].message
    assert _count(world) == 0
    with pytest.raises(ValueError, match="no campaign key column"):
        parse_export("Foo,Bar\n1,2\n")
    with pytest.raises(ValueError, match="has no date column"):
        parse_export("Tracking Code,Visits\nx,1\n")
