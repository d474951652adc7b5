"""Performance metrics computed in SQL, checked against hand-computed values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from spine.errors import UnknownTenantError, ValidationError
from spine.performance import campaign_performance, channel_performance, performance_summary, totals
from spine.repositories import open_store
from tests.spine.conftest import T1, T2, campaign_input


def _m(cid, day, channel, imps, clicks, convs, spend, revenue):
    return {
        "campaign_id": cid,
        "date": day,
        "channel": channel,
        "impressions": imps,
        "clicks": clicks,
        "conversions": convs,
        "spend": spend,
        "revenue_attributed": revenue,
        "source_system": "google_analytics",
        "source_campaign_key": "CMP_TEST",
    }


@pytest.fixture
def loaded(factory, campaign_id):
    with open_store(factory, T1) as store:
        other = store.campaigns.create(campaign_input(name="Other One"), actor="maya.chen").id
        store.measurements.append(
            [
                _m(campaign_id, "2026-03-01", "email", 1000, 50, 5, "100.00", "400.00"),
                _m(campaign_id, "2026-03-02", "email", 3000, 100, 10, "200.00", "500.00"),
                _m(campaign_id, "2026-03-02", "paid_media", 6000, 150, 0, "300.00", "0"),
                _m(other, "2026-03-02", "email", 0, 0, 0, "0", "0"),
                _m(campaign_id, "2026-04-15", "email", 999, 9, 9, "9", "9"),  # outside the range
            ]
        )
    return campaign_id, other


def test_per_campaign_metrics(factory, loaded):
    cid, other = loaded
    with factory() as s:
        rows = campaign_performance(s, T1, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert [r.campaign_id for r in rows] == [cid, other]
    m = rows[0].metrics
    assert (m.impressions, m.clicks, m.conversions) == (10000, 300, 15)
    assert (m.spend, m.revenue) == (Decimal("600.0000"), Decimal("900.0000"))
    assert m.ctr == pytest.approx(300 / 10000)
    assert m.cvr == pytest.approx(15 / 300)
    assert m.cpa == Decimal("40.0000")
    assert m.roas == pytest.approx(1.5)
    z = rows[1].metrics
    assert (z.ctr, z.cvr, z.cpa, z.roas) == (None, None, None, None)


def test_per_channel_and_totals(factory, loaded):
    cid, _ = loaded
    with factory() as s:
        ch = {c.channel: c.metrics for c in channel_performance(s, T1, dt.date(2026, 3, 1), dt.date(2026, 3, 31))}
        assert ch["email"].impressions == 4000 and ch["email"].cpa == Decimal("20.0000")
        assert ch["paid_media"].cvr == 0.0 and ch["paid_media"].cpa is None and ch["paid_media"].roas == 0.0
        one = channel_performance(s, T1, campaign_id=cid)
        assert {c.channel: c.metrics.impressions for c in one} == {"email": 4999, "paid_media": 6000}
        [t] = totals(s, T1, dt.date(2026, 3, 2), dt.date(2026, 3, 2))
        assert (t.impressions, t.clicks, t.spend) == (9000, 250, Decimal("500.0000"))
        summary = performance_summary(s, T1, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        assert summary.totals[0].impressions == 10000 and len(summary.by_campaign) == 2
        assert performance_summary(s, T2).totals == []  # isolation: nothing of T1 leaks
        with pytest.raises(ValidationError) as err:
            totals(s, T1, dt.date(2026, 3, 2), dt.date(2026, 3, 1))
        assert err.value.field == "end"
        with pytest.raises(UnknownTenantError):
            totals(s, "nope")


def test_currencies_never_mix(factory, loaded):
    cid, _ = loaded
    with open_store(factory, T1) as store:
        row = _m(cid, "2026-03-01", "email", 100, 10, 1, "50", "70")
        store.measurements.append([{**row, "currency": "EUR"}])
    with factory() as s:
        by_currency = {t.currency: t for t in totals(s, T1, dt.date(2026, 3, 1), dt.date(2026, 3, 31))}
        assert by_currency["EUR"].spend == Decimal("50.0000") and by_currency["EUR"].cpa == Decimal("50.0000")
        assert by_currency["USD"].spend == Decimal("600.0000")
        rows = campaign_performance(s, T1, dt.date(2026, 3, 1), dt.date(2026, 3, 31), campaign_ids=[cid])
        assert sorted(r.metrics.currency for r in rows) == ["EUR", "USD"]


def test_summary_totals_equal_sql_totals(factory, loaded):
    cid, _ = loaded
    with open_store(factory, T1) as store:
        row = _m(cid, "2026-03-05", "social", 500, 7, 2, "33.33", "10")
        store.measurements.append([{**row, "currency": "EUR"}])
    with factory() as s:
        for start, end in [(None, None), (dt.date(2026, 3, 1), dt.date(2026, 3, 31))]:
            assert performance_summary(s, T1, start, end).totals == totals(s, T1, start, end)


def test_summary_narrowed_to_campaigns_narrows_every_section(factory, loaded):
    _, other = loaded
    with open_store(factory, T1) as store:
        store.measurements.append([_m(other, "2026-03-03", "social", 700, 70, 7, "70", "140")])
    march = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    with factory() as s:
        mine = performance_summary(s, T1, *march, campaign_ids=[other])
        assert [c.campaign_id for c in mine.by_campaign] == [other]
        assert mine.totals == totals(s, T1, *march, campaign_id=other)
        assert [c.channel for c in mine.by_channel] == ["email", "social"]
        assert mine.by_channel == channel_performance(s, T1, *march, campaign_id=other)
        assert mine.totals[0].impressions == 700  # the other campaign's 10000 impressions are not in it
        assert performance_summary(s, T1, *march, campaign_ids=[]).totals == []
