"""Tenant isolation: every read and write of another tenant's entity is an error."""

from __future__ import annotations

import pytest

from spine.errors import TenantIsolationError
from spine.repositories import open_store
from tests.spine.conftest import T2, row_counts

WF_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def test_cross_tenant_reads_and_writes_raise(factory, campaign_id):
    with open_store(factory, "acme-test") as store:
        store.refs.link("campaign", campaign_id, "workfront", WF_ID)
        item = store.work_items.create({"campaign_id": campaign_id, "name": "Brief"}, actor="maya.chen")
        strat = store.strategies.create(
            {"campaign_id": campaign_id, "type": "full", "title": "Plan", "content": {}}, actor="maya.chen"
        )
        run = store.runs.create(campaign_id, "launch")
    with factory() as s:
        before = row_counts(s)
    attempts = [
        lambda st: st.campaigns.get(campaign_id),
        lambda st: st.campaigns.update(campaign_id, {"name": "Hijack"}, expected_version=1, actor="gus.g"),
        lambda st: st.campaigns.set_status(campaign_id, "cancelled", actor="gus.g"),
        lambda st: st.work_items.get(item.id),
        lambda st: st.work_items.update(item.id, {"status": "completed"}, actor="gus.g"),
        lambda st: st.work_items.create({"campaign_id": campaign_id, "name": "Mine now"}, actor="gus.g"),
        lambda st: st.strategies.get(strat.id),
        lambda st: st.strategies.submit(strat.id, actor="gus.g"),
        lambda st: st.strategies.create(
            {"campaign_id": campaign_id, "type": "full", "title": "Plan", "content": {}}, actor="gus.g"
        ),
        lambda st: st.assets.create(
            {"campaign_id": campaign_id, "type": "image", "name": "x", "url": "https://dam/x"}, actor="gus.g"
        ),
        lambda st: st.measurements.append(
            [
                {
                    "campaign_id": campaign_id,
                    "date": "2026-02-20",
                    "channel": "email",
                    "source_system": "custom",
                    "source_campaign_key": "k",
                }
            ]
        ),
        lambda st: st.measurements.list(campaign_id),
        lambda st: st.refs.canonical_id("workfront", "campaign", WF_ID),
        lambda st: st.refs.external_ids("campaign", campaign_id),
        lambda st: st.refs.link("campaign", campaign_id, "asana", "1200000000000001"),
        lambda st: st.tracking.get(campaign_id),
        lambda st: st.sync.record("campaign", campaign_id, "workfront", ["name"], source="workfront"),
        lambda st: st.runs.get(run.id),
        lambda st: st.runs.load_from_run(run.id),
        lambda st: st.runs.create(campaign_id, "steal"),
        lambda st: st.errors.log("step", "boom", campaign_id=campaign_id),
    ]
    for i, attempt in enumerate(attempts):
        with pytest.raises(TenantIsolationError) as err, open_store(factory, T2) as store:
            attempt(store)
        assert err.value.field == "tenant_id", i
    with factory() as s:
        assert row_counts(s) == before


def test_lists_only_show_own_tenant(factory, campaign_id):
    with open_store(factory, T2) as store:
        assert store.campaigns.list() == []
        assert store.campaigns.count() == 0
        assert store.events.list() == []
        assert store.strategies.list() == []
        assert store.work_items.list() == []
        assert store.directory.list_users()[0].user_id == "gus.g"
        assert store.tracking.find_campaign("adobe_analytics", "q1_launch_2026") == []
    with open_store(factory, "acme-test") as store:
        assert store.tracking.find_campaign("adobe_analytics", "q1_launch_2026") == [campaign_id]
