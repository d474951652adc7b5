"""Bulk creation of a campaign's work items from an external system (the backfill's write path)."""

from __future__ import annotations

import pytest

from spine.errors import ValidationError
from spine.repositories import open_store
from tests.spine.conftest import T1, row_counts

WF = "5f3a9c1be2d84f6a9b7c0d1e2f3a4b5c"


def _task(i: int, **extra: object) -> dict[str, object]:
    return {"name": f"Task {i}", "status": "in_progress", "source_system": "workfront",
            "external_id": f"{i:032x}", "sync_status": "synced", **extra}  # fmt: skip


def test_bulk_items_get_their_refs_and_events_like_single_creates(factory, campaign_id):
    with open_store(factory, T1) as store:
        assert store.work_items.create_many(campaign_id, [_task(i) for i in range(1, 26)], actor="import") == 25
    with open_store(factory, T1) as store:
        items = store.work_items.list(campaign_id=campaign_id)
        assert len(items) == 25 and {i.status for i in items} == {"in_progress"}
        assert store.refs.canonical_id("workfront", "work_item", f"{7:032x}") in {i.id for i in items}
        assert len(store.events.list(event_type="work_item.created")) == 25


@pytest.mark.parametrize(
    ("tasks", "field"),
    [
        ([_task(1), _task(1)], "external_id"),  # the same external task twice in one batch
        ([_task(1), _task(2, planned_start_date="2027-02-02", planned_end_date="2027-01-01")], "planned_end_date"),
        ([_task(1, parent_item_id="00000000-0000-4000-8000-000000000000")], "parent_item_id"),
    ],
)
def test_a_bad_batch_writes_nothing(factory, campaign_id, tasks, field):
    with factory() as s:
        before = row_counts(s)
    with pytest.raises(ValidationError) as err, open_store(factory, T1) as store:
        store.work_items.create_many(campaign_id, tasks, actor="import")
    assert err.value.field == field
    with factory() as s:
        assert row_counts(s) == before


def test_a_task_already_linked_elsewhere_is_refused(factory, campaign_id):
    with open_store(factory, T1) as store:
        store.work_items.create_many(campaign_id, [_task(1)], actor="import")
    with pytest.raises(ValidationError, match="already linked"), open_store(factory, T1) as store:
        store.work_items.create_many(campaign_id, [_task(2), _task(1)], actor="import")
    with open_store(factory, T1) as store:
        assert len(store.work_items.list(campaign_id=campaign_id)) == 1
