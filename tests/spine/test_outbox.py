"""Every create appends an outbox event in the same transaction; measurements are append-only."""

from __future__ import annotations

import pytest

from spine.errors import ValidationError
from spine.repositories import MeasurementRepository, open_store
from tests.spine.conftest import T1, campaign_input, row_counts


def test_each_create_emits_one_event_and_outbox_drains(factory, campaign_id):
    with open_store(factory, T1) as store:
        store.work_items.create({"campaign_id": campaign_id, "name": "Brief"}, actor="maya.chen")
        store.assets.create(
            {"campaign_id": campaign_id, "type": "video", "name": "Teaser", "url": "https://dam.example/v.mp4"},
            actor="dam",
        )
        store.strategies.create(
            {"campaign_id": campaign_id, "type": "audience", "title": "Audience", "content": {}}, actor="maya.chen"
        )
        store.measurements.append(
            [
                {
                    "campaign_id": campaign_id,
                    "date": d,
                    "channel": "web",
                    "impressions": 10,
                    "source_system": "adobe_analytics",
                    "source_campaign_key": "q1_launch_2026",
                }
                for d in ("2026-02-16", "2026-02-17")
            ]
        )
        store.runs.create(campaign_id, "launch")
    with open_store(factory, T1) as store:
        types = [e.event_type for e in store.events.list()]
        assert types == [
            "campaign.created",
            "work_item.created",
            "asset.created",
            "strategy.created",
            "measurement.collected",
            "run.created",
        ]
        collected = store.events.list(event_type="measurement.collected")[0].payload
        assert (collected["rows"], collected["date_from"], collected["impressions"]) == (2, "2026-02-16", 20)
        pending = store.events.unpublished()
        assert store.events.mark_published([e.seq for e in pending[:2]]) == 2
        assert len(store.events.unpublished()) == len(pending) - 2


def test_failed_create_leaves_no_event(factory):
    with factory() as s:
        before = row_counts(s)
    with pytest.raises(ValidationError), open_store(factory, T1) as store:
        store.campaigns.create(campaign_input(tier=9), actor="maya.chen")
    with factory() as s:
        assert row_counts(s) == before


def test_measurements_are_append_only():
    public = {name for name in dir(MeasurementRepository) if not name.startswith("_")}
    assert not {n for n in public if any(w in n for w in ("update", "delete", "remove", "set"))}
