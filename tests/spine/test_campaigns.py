"""Campaign create (tracking keys, outbox, request record), idempotency, optimistic locking."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from spine.db import transaction
from spine.errors import ConflictError, DuplicateRequestError, IdempotencyKeyReusedError, ValidationError
from spine.models import Campaign, CampaignRequest, CampaignTrackingKeys
from spine.repositories import SpineStore, open_store
from tests.spine.conftest import T1, campaign_input, row_counts


def test_create_writes_campaign_keys_request_and_event(factory):
    with open_store(factory, T1) as store:
        c = store.campaigns.create(campaign_input(), actor="maya.chen", request_id="req-1")
    assert c.version == 1 and c.status == "draft" and c.tenant_id == T1
    assert c.budget_planned.amount == Decimal("50000") and c.budget_planned.currency == "USD"
    with open_store(factory, T1) as store:
        assert store.campaigns.get(c.id) == c
        events = store.events.list(aggregate_id=c.id)
        assert [e.event_type for e in events] == ["campaign.created"]
        assert events[0].payload["name"] == "Q1 Launch" and events[0].payload["tier"] == 1
        assert store.requests.get("req-1").campaign_id == c.id
        keys = store.tracking.get(c.id)
        assert keys.adobe_analytics == "q1_launch_2026"


def test_same_client_key_returns_same_campaign(factory):
    with open_store(factory, T1) as store:
        a = store.campaigns.create(campaign_input(), actor="maya.chen", client_request_key="ck-1")
    with open_store(factory, T1) as store:
        b = store.campaigns.create(campaign_input(), actor="maya.chen", client_request_key="ck-1")
        assert a.id == b.id
        assert store.campaigns.count() == 1


def test_same_client_key_other_arguments_is_an_error(factory):
    with open_store(factory, T1) as store:
        store.campaigns.create(campaign_input(), actor="maya.chen", client_request_key="ck-1")
    with factory() as s:
        before = row_counts(s)
    with pytest.raises(IdempotencyKeyReusedError) as err, open_store(factory, T1) as store:
        store.campaigns.create(campaign_input(tier=2), actor="maya.chen", client_request_key="ck-1")
    assert err.value.field == "client_request_key"
    with factory() as s:
        assert row_counts(s) == before


def test_duplicate_request_id_is_an_error(factory):
    with open_store(factory, T1) as store:
        store.campaigns.create(campaign_input(), actor="maya.chen", request_id="r-1")
    with factory() as s:
        before = row_counts(s)
    with pytest.raises(DuplicateRequestError) as err, open_store(factory, T1) as store:
        store.campaigns.create(campaign_input(name="Other"), actor="maya.chen", request_id="r-1")
    assert err.value.field == "request_id"
    with factory() as s:
        assert row_counts(s) == before
        assert len(s.scalars(select(CampaignRequest)).all()) == 1


def test_update_bumps_version_and_emits_event(factory, campaign_id):
    with open_store(factory, T1) as store:
        out = store.campaigns.update(
            campaign_id, {"name": "Q1 Launch v2", "tier": 2}, expected_version=1, actor="lee.park"
        )
    assert (out.name, out.tier, out.version, out.updated_by) == ("Q1 Launch v2", 2, 2, "lee.park")
    with open_store(factory, T1) as store:
        ev = store.events.list(event_type="campaign.updated")[0]
        assert ev.payload["changed_fields"] == ["name", "tier"]
        assert ev.payload["previous_values"] == {"name": "Q1 Launch", "tier": 1}
        assert ev.payload["new_values"] == {"name": "Q1 Launch v2", "tier": 2}


def test_stale_version_raises_conflict_and_writes_nothing(factory, campaign_id):
    with open_store(factory, T1) as store:
        store.campaigns.update(campaign_id, {"name": "First Writer"}, expected_version=1, actor="maya.chen")
    with factory() as s:
        before = row_counts(s)
    with pytest.raises(ConflictError) as err, open_store(factory, T1) as store:
        store.campaigns.update(campaign_id, {"name": "Second Writer"}, expected_version=1, actor="lee.park")
    assert err.value.field == "expected_version" and err.value.actual == 2
    with factory() as s:
        row = s.get(Campaign, campaign_id)
        assert (row.name, row.version) == ("First Writer", 2)
        assert row_counts(s) == before


def test_update_checks_cross_field_rules_on_the_merged_result(factory, campaign_id):
    with pytest.raises(ValidationError) as err, open_store(factory, T1) as store:
        store.campaigns.update(campaign_id, {"end_date": "2026-01-01"}, expected_version=1, actor="maya.chen")
    assert err.value.field == "end_date"
    with pytest.raises(ValidationError) as err, open_store(factory, T1) as store:
        store.campaigns.update(campaign_id, {"name": None}, expected_version=1, actor="maya.chen")
    assert err.value.field == "name"


def test_update_can_clear_optional_budget(factory, campaign_id):
    with open_store(factory, T1) as store:
        out = store.campaigns.update(campaign_id, {"budget_planned": None}, expected_version=1, actor="maya.chen")
    assert out.budget_planned is None


def test_set_status_records_source_and_version(factory, campaign_id):
    with open_store(factory, T1) as store:
        out = store.campaigns.set_status(campaign_id, "in_progress", source="workfront", actor="sync")
    assert (out.status, out.status_source, out.version) == ("in_progress", "workfront", 2)
    with pytest.raises(ValidationError) as err, open_store(factory, T1) as store:
        store.campaigns.set_status(campaign_id, "paused", actor="sync")
    assert err.value.field == "status"
    with pytest.raises(ConflictError), open_store(factory, T1) as store:
        store.campaigns.set_status(campaign_id, "launched", actor="sync", expected_version=1)


def test_list_filters_and_tracking_rows(factory):
    with open_store(factory, T1) as store:
        store.campaigns.create(campaign_input(name="Spring Webinar", type="event", tier=3), actor="maya.chen")
        store.campaigns.create(campaign_input(name="Partner Push", type="partner", tier=2), actor="maya.chen")
    with open_store(factory, T1) as store:
        assert [c.name for c in store.campaigns.list(type="event")] == ["Spring Webinar"]
        assert [c.name for c in store.campaigns.list(tier=2)] == ["Partner Push"]
        assert len(store.campaigns.list()) == 2
        assert [c.name for c in store.campaigns.find_by_name("webinar")] == ["Spring Webinar"]
    with transaction(factory) as s:
        assert len(s.scalars(select(CampaignTrackingKeys)).all()) == 2
        assert SpineStore(s, T1).campaigns.count() == 2
