"""The demo loader is idempotent and realistic."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from spine.demo import load_demo
from spine.demo_data import DEMO_TENANT, OTHER_TENANT
from spine.enums import CampaignType, Group
from spine.models import SystemRef
from spine.performance import performance_summary
from spine.repositories import open_store
from tests.spine.conftest import row_counts

TODAY = dt.date(2026, 6, 1)


def test_demo_is_idempotent_and_realistic(session_factory):
    first = load_demo(session_factory, today=TODAY)
    assert first.created and first.campaigns >= 12
    with session_factory() as s:
        before = row_counts(s)
    again = load_demo(session_factory, today=TODAY)
    assert not again.created
    assert (again.campaigns, again.work_items, again.measurements) == (
        first.campaigns,
        first.work_items,
        first.measurements,
    )
    with session_factory() as s:
        assert row_counts(s) == before

    with open_store(session_factory, DEMO_TENANT) as store:
        for group in Group:
            assert store.directory.members(group.value), group
        assert "campaign-managers" in store.directory.get_user("maya.chen").groups
        campaigns = store.campaigns.list()
        assert len(campaigns) >= 12
        assert {c.type for c in campaigns} == set(CampaignType)
        assert {c.tier for c in campaigns} == {1, 2, 3}
        assert len({c.status for c in campaigns}) >= 6
        systems = {s for c in campaigns for s in c.external_refs}
        assert systems == {"workfront", "asana"}
        for c in campaigns:
            for system, ext in c.external_refs.items():
                pattern = r"[0-9a-f]{32}" if system == "workfront" else r"\d{16}"
                assert re.fullmatch(pattern, ext), (system, ext)
        items = store.work_items.list()
        assert {w.source_system for w in items} == {"workfront", "asana"}
        assert any(w.parent_item_id for w in items)
        assert {s.status for s in store.strategies.list()} >= {"approved", "pending_review", "draft"}
        assert store.assets.list()
        summary = store.performance(TODAY - dt.timedelta(days=90), TODAY)
        assert summary.totals and all(t.impressions > 0 for t in summary.totals)
        assert {ch.channel for ch in summary.by_channel} >= {"email", "paid_media", "social", "events"}
        longest = max(len({m.date for m in store.measurements.list(c.id)}) for c in campaigns)
        assert longest >= 85
        spent = [c for c in campaigns if c.budget_spent is not None]
        assert spent and all(c.budget_spent.amount > 0 for c in spent)

    with open_store(session_factory, OTHER_TENANT) as store:
        assert store.directory.list_users() and store.campaigns.count() >= 1
        assert not {c.name for c in store.campaigns.list()} & {c.name for c in campaigns}
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(SystemRef).where(SystemRef.tenant_id == OTHER_TENANT))
        assert performance_summary(s, OTHER_TENANT).totals[0].impressions > 0
