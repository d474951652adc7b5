"""SystemRef both-way lookups, tracking-key conventions, per-field sync state."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from spine.errors import ValidationError
from spine.repositories import open_store, resolve_external_id
from spine.tracking_keys import generate_tracking_keys, quarter, slugify
from tests.spine.conftest import T1

WF = "5f3a9c1be2d84f6a9b7c0d1e2f3a4b5c"
ASANA = "1206384917263548"


def test_system_refs_both_ways(factory, campaign_id):
    with open_store(factory, T1) as store:
        store.refs.link("campaign", campaign_id, "workfront", WF, external_url=f"https://wf/project/{WF}")
        store.refs.link("campaign", campaign_id, "asana", ASANA)
        again = store.refs.link("campaign", campaign_id, "asana", ASANA)  # idempotent
        assert again.sync_version == 1
    with open_store(factory, T1) as store:
        assert store.refs.canonical_id("workfront", "campaign", WF) == campaign_id
        assert store.refs.canonical_id("asana", "campaign", ASANA) == campaign_id
        assert store.refs.canonical_id("asana", "campaign", "999") is None
        assert [(r.system, r.external_id) for r in store.refs.external_ids("campaign", campaign_id)] == [
            ("asana", ASANA),
            ("workfront", WF),
        ]
        assert store.refs.external_id("campaign", campaign_id, "workfront") == WF
        assert store.campaigns.get(campaign_id).external_refs == {"workfront": WF, "asana": ASANA}
        assert store.refs.mark_synced("workfront", "campaign", WF).sync_version == 2
        ref = resolve_external_id(store.session, "workfront", "campaign", WF)
        assert (ref.tenant_id, ref.canonical_id) == (T1, campaign_id)
        assert [e.event_type for e in store.events.list(event_type="system_ref.linked")] == ["system_ref.linked"] * 2


def test_ref_errors_name_fields(factory, campaign_id):
    with open_store(factory, T1) as store:
        other = store.campaigns.create(
            {"name": "Other", "type": "standard", "tier": 2, "launch_date": "2026-05-01", "owner_id": "maya.chen"},
            actor="maya.chen",
        )
        store.refs.link("campaign", campaign_id, "workfront", WF)
    cases = [
        (("campaign", campaign_id, "workfront", "WF-123"), "external_id"),
        (("campaign", campaign_id, "asana", "12ab"), "external_id"),
        (("campaign", campaign_id, "jira", "X-1"), "system"),
        (("project", campaign_id, "asana", ASANA), "entity_type"),
        (("campaign", "nope", "asana", ASANA), "canonical_id"),
        (("campaign", other.id, "workfront", WF), "external_id"),  # already mapped elsewhere
    ]
    for args, field in cases:
        with pytest.raises(Exception) as err, open_store(factory, T1) as store:
            store.refs.link(*args)
        assert err.value.field == field


def test_work_items_in_both_systems_get_refs(factory, campaign_id):
    with open_store(factory, T1) as store:
        parent = store.work_items.create(
            {
                "campaign_id": campaign_id,
                "name": "Launch",
                "item_type": "milestone",
                "source_system": "workfront",
                "external_id": WF,
            },
            actor="maya.chen",
        )
        child = store.work_items.create(
            {
                "campaign_id": campaign_id,
                "name": "Booth",
                "parent_item_id": parent.id,
                "source_system": "asana",
                "external_id": ASANA,
            },
            actor="maya.chen",
        )
    with open_store(factory, T1) as store:
        assert store.refs.canonical_id("workfront", "work_item", WF) == parent.id
        assert store.refs.canonical_id("asana", "work_item", ASANA) == child.id
        assert [w.id for w in store.work_items.list(parent_item_id=parent.id)] == [child.id]
        upd = store.work_items.update(
            child.id, {"status": "completed", "percent_complete": 100}, actor="sync", source_system="asana"
        )
        assert upd.version == 2
        ev = store.events.list(event_type="work_item.updated")[0]
        assert ev.payload["changed_fields"] == ["percent_complete", "status"]
        assert ev.payload["previous_values"]["status"] == "not_started"
        assert ev.payload["source_system"] == "asana"
    with pytest.raises(ValidationError) as err, open_store(factory, T1) as store:
        store.work_items.create(
            {"campaign_id": campaign_id, "name": "Dup", "source_system": "asana", "external_id": ASANA},
            actor="maya.chen",
        )
    assert err.value.field == "external_id"


def test_tracking_key_conventions():
    cid = "3f2b8c1e-4d5a-4b6c-9e7f-a1b2c3d4e5f6"
    keys = generate_tracking_keys(cid, "Q1 Launch: Acme Cloud!", dt.date(2026, 2, 15))
    assert keys.adobe_analytics == "q1_launch_acme_cloud_2026"
    assert keys.google_analytics == "CMP_C3D4E5F6"
    assert keys.internal_metrics == "MKT-Q12026-Q1_LAUNCH_"
    assert keys.salesforce is None
    assert keys.utm_template == {
        "utm_source": "{source}",
        "utm_medium": "{medium}",
        "utm_campaign": "q1_launch_acme_cloud_2026",
        "utm_content": "{content}",
        "utm_term": "{term}",
    }
    assert slugify("Café Über-Event") == "cafe_uber_event"
    assert slugify("!!!") == "campaign"
    assert [quarter(dt.date(2026, m, 1)) for m in (1, 3, 4, 7, 10, 12)] == ["Q1", "Q1", "Q2", "Q3", "Q4", "Q4"]
    internal = generate_tracking_keys(cid, "Holiday Retargeting Blitz", dt.date(2025, 11, 3)).internal_metrics
    assert internal == "MKT-Q42025-HOLIDAY_RE"


def test_tracking_keys_stored_on_create(factory, campaign_id):
    with open_store(factory, T1) as store:
        keys = store.tracking.get(campaign_id)
        assert keys.google_analytics == f"CMP_{campaign_id[-8:].upper()}"
        assert re.fullmatch(r"MKT-Q12026-Q1_LAUNCH", keys.internal_metrics)
        assert store.tracking.find_campaign("google_analytics", keys.google_analytics) == [campaign_id]
        assert store.tracking.set_salesforce(campaign_id, "701Hs000001AbCdIAK").salesforce == "701Hs000001AbCdIAK"
        with pytest.raises(ValidationError) as err:
            store.tracking.find_campaign("bing", "x")
        assert err.value.field == "tracking_system"


def test_sync_state_per_field_versions(factory, campaign_id):
    with open_store(factory, T1) as store:
        store.sync.record("campaign", campaign_id, "workfront", ["name", "status"], source="mcc")
        state = store.sync.record("campaign", campaign_id, "workfront", ["status"], source="workfront")
        assert state.field_versions["status"]["version"] == 2
        assert state.field_versions["status"]["source"] == "workfront"
        assert state.field_versions["name"]["version"] == 1
    with open_store(factory, T1) as store:
        assert store.sync.field_version("campaign", campaign_id, "workfront", "status") == 2
        assert store.sync.field_version("campaign", campaign_id, "asana", "status") == 0
        assert store.sync.get("campaign", campaign_id, "asana") is None
