"""Every rule of the seed rejects bad input with an error naming the field, and writes nothing."""

from __future__ import annotations

import pytest

from spine.errors import SpineError, TenantIsolationError, UnknownTenantError, ValidationError
from spine.repositories import SpineStore, open_store
from spine.schemas import CampaignCreate, MeasurementIn, parse
from tests.spine.conftest import T1, campaign_input, row_counts

BAD_CAMPAIGNS = [
    ({"name": "ab"}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"description": "d" * 5001}, "description"),
    ({"type": "webinar"}, "type"),
    ({"tier": 0}, "tier"),
    ({"tier": 4}, "tier"),
    ({"tier": "2"}, "tier"),
    ({"status": "paused"}, "status"),
    ({"launch_date": "2026-02-30"}, "launch_date"),
    ({"launch_date": "15/02/2026"}, "launch_date"),
    ({"launch_date": "2026-02-15T10:00:00Z"}, "launch_date"),
    ({"end_date": "2026-02-14"}, "end_date"),
    ({"budget_planned": {"amount": "-1", "currency": "USD"}}, "budget_planned.amount"),
    ({"budget_planned": {"amount": "0", "currency": "USD"}}, "budget_planned"),
    ({"budget_planned": {"amount": "10", "currency": "usd"}}, "budget_planned.currency"),
    ({"budget_planned": {"amount": "10", "currency": "XYZ"}}, "budget_planned.currency"),
    ({"budget_planned": {"amount": "1.23456", "currency": "USD"}}, "budget_planned.amount"),
    ({"channels": ["tv"]}, "channels.0"),
    ({"owner_id": "nobody"}, "owner_id"),
    ({"owner_id": "gus.g"}, "owner_id"),  # a user of the other tenant
    ({"surprise": 1}, "surprise"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_CAMPAIGNS, ids=[f for _, f in BAD_CAMPAIGNS])
def test_bad_campaign_names_the_field_and_changes_nothing(factory, bad, field):
    with factory() as s:
        before = row_counts(s)
    with pytest.raises(ValidationError) as err, open_store(factory, T1) as store:
        store.campaigns.create(campaign_input(**bad), actor="maya.chen", client_request_key="k")
    assert err.value.field == field
    assert err.value.fix
    assert field.split(".")[0] in str(err.value)
    with factory() as s:
        assert row_counts(s) == before


def test_missing_required_fields_are_named():
    data = campaign_input()
    del data["launch_date"]
    with pytest.raises(ValidationError) as err:
        parse(CampaignCreate, data)
    assert err.value.field == "launch_date" and err.value.fix == "provide this field"


def test_valid_edge_values_pass():
    c = parse(CampaignCreate, campaign_input(name="abc", tier=3, end_date="2026-02-15", budget_planned=None))
    assert c.end_date == c.launch_date
    m = parse(CampaignCreate, campaign_input(budget_planned={"amount": 0.1, "currency": "JPY"}))
    assert str(m.budget_planned.amount) == "0.1"


def test_unknown_tenant_is_an_error(factory):
    with pytest.raises(UnknownTenantError) as err, open_store(factory, "nope"):
        pass
    assert err.value.field == "tenant_id"


def test_bad_measurements_name_row_and_field(factory, campaign_id):
    good = {
        "campaign_id": campaign_id,
        "date": "2026-02-20",
        "channel": "email",
        "impressions": 10,
        "clicks": 1,
        "source_system": "google_analytics",
        "source_campaign_key": "CMP_X",
    }
    cases = [
        ({"impressions": -1}, "rows.1.impressions"),
        ({"channel": "tv"}, "rows.1.channel"),
        ({"date": "2026/02/20"}, "rows.1.date"),
        ({"currency": "ABC"}, "rows.1.currency"),
        ({"bounce_rate": 1.5}, "rows.1.bounce_rate"),
        ({"spend": "-3"}, "rows.1.spend"),
        ({"campaign_id": "missing"}, "rows.1.campaign_id"),
    ]
    with factory() as s:
        before = row_counts(s)
    for bad, field in cases:
        with pytest.raises(ValidationError) as err, open_store(factory, T1) as store:
            store.measurements.append([good, {**good, **bad}])
        assert err.value.field == field
    with factory() as s:
        assert row_counts(s) == before
    parse(MeasurementIn, good)


def test_work_item_rules(factory, campaign_id):
    base = {"campaign_id": campaign_id, "name": "Draft copy"}
    cases = [
        ({"percent_complete": 101}, "percent_complete"),
        ({"priority": "asap"}, "priority"),
        ({"item_type": "epic"}, "item_type"),
        ({"planned_start_date": "2026-03-02", "planned_end_date": "2026-03-01"}, "planned_end_date"),
        ({"source_system": "workfront", "external_id": "WF-123"}, "external_id"),
        ({"source_system": "asana", "external_id": "abc"}, "external_id"),
        ({"assignee_email": "not-an-email"}, "assignee_email"),
        ({"parent_item_id": "missing"}, "parent_item_id"),
        ({"campaign_id": "missing"}, "campaign_id"),
    ]
    with factory() as s:
        before = row_counts(s)
    for bad, field in cases:
        with pytest.raises(SpineError) as err, open_store(factory, T1) as store:
            store.work_items.create({**base, **bad}, actor="maya.chen")
        assert err.value.field == field
    with factory() as s:
        assert row_counts(s) == before


def test_strategy_rules(factory, campaign_id):
    base = {"campaign_id": campaign_id, "type": "messaging", "title": "Key messages", "content": {"sections": []}}
    for bad, field in [({"type": "vibes"}, "type"), ({"title": "no"}, "title"), ({"content": {"x": 1}}, "content.x")]:
        with pytest.raises(ValidationError) as err, open_store(factory, T1) as store:
            store.strategies.create({**base, **bad}, actor="maya.chen")
        assert err.value.field == field


def test_cross_tenant_owner_reference_is_rejected(factory):
    with pytest.raises((ValidationError, TenantIsolationError)), open_store(factory, T1) as store:
        SpineStore(store.session, T1).campaigns.create(campaign_input(owner_id="gus.g"), actor="maya.chen")
