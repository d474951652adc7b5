"""Inbound processing into the spine on SQLite and PostgreSQL: field authority, per-field versions, out-of-order
and duplicate deliveries, unknown ids, conflicts (all four rules), rollups, outbox events and the audit chain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from spine.models import Campaign, EventLog, SyncConflict, SyncState, SystemRef, WebhookDelivery, WorkItem
from spine.repositories import SpineStore
from sync.conflicts import list_conflicts, resolve
from sync.process import process, process_pending
from tests.sync.inbound_world import T0, TENANT, WF_MAYA, World, build_world, deliver, task_update, wf_event


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


def item(world: World, i: int) -> WorkItem:
    with world.sessions() as s:
        row = s.get(WorkItem, world.item_ids[i])
        assert row is not None
        return row


def events(world: World, event_type: str) -> int:
    with world.sessions() as s:
        return s.scalar(select(func.count()).select_from(EventLog).where(EventLog.event_type == event_type)) or 0


def test_task_update_applies_maps_status_rolls_up_and_audits(world: World) -> None:
    body = task_update(world, 0, T0, {"status": "NEW", "percentComplete": 0},
                       {"status": "INP", "percentComplete": 40, "assignedToID": WF_MAYA})  # fmt: skip
    stored = deliver(world, body)
    assert stored.created
    assert process(world.sessions, world.audit, stored.id) == "processed"
    row = item(world, 0)
    assert (row.status, row.percent_complete, row.assignee_id) == ("in_progress", 40, "maya.chen")
    assert events(world, "work_item.updated") == 1
    assert events(world, "campaign.progress_updated") == 1
    with world.sessions() as s:
        rollup = s.scalars(select(EventLog).where(EventLog.event_type == "campaign.progress_updated")).one()
        assert rollup.payload["items"] == 3 and rollup.payload["by_status"]["in_progress"] == 1
        state = s.scalars(select(SyncState).where(SyncState.canonical_id == world.item_ids[0])).one()
        assert state.status == "synced" and state.field_versions["status"]["version"] == 1
    tail = world.audit.tail(TENANT, 1)[0]
    assert (tail.server, tail.tool, tail.detail["applied"]) == ("sync", "webhook.workfront", 3)
    assert world.audit.verify().ok


def test_duplicate_delivery_changes_nothing(world: World) -> None:
    body = task_update(world, 0, T0, {"percentComplete": 0}, {"percentComplete": 50})
    first = deliver(world, body)
    again = deliver(world, body)
    assert first.created and not again.created and again.id == first.id
    assert process(world.sessions, world.audit, first.id) == "processed"
    assert process(world.sessions, world.audit, first.id) == "processed"  # re-queued: not applied twice
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
    assert events(world, "work_item.updated") == 1
    assert item(world, 0).version == 2


def test_out_of_order_delivery_does_not_overwrite_newer_data(world: World) -> None:
    newer = deliver(world, task_update(world, 1, T0 + dt.timedelta(minutes=5), {"percentComplete": 10},
                                       {"percentComplete": 80}))  # fmt: skip
    older = deliver(world, task_update(world, 1, T0, {"percentComplete": 0}, {"percentComplete": 10}))
    assert process(world.sessions, world.audit, newer.id) == "processed"
    assert process(world.sessions, world.audit, older.id) == "processed"
    assert item(world, 1).percent_complete == 80
    with world.sessions() as s:
        summary = s.get(WebhookDelivery, older.id).summary  # type: ignore[union-attr]
    assert summary["stale"] == [f"work_item.percent_complete@{world.item_ids[1]}"]


def test_unknown_id_is_recorded_not_an_error(world: World) -> None:
    ghost = "f" * 32
    stored = deliver(world, wf_event("UPDATE", "TASK", ghost, T0, {"name": "x", "projectID": "e" * 32},
                                     {"name": "y", "projectID": "e" * 32}))  # fmt: skip
    assert process(world.sessions, world.audit, stored.id) == "ignored"
    with world.sessions() as s:
        row = s.get(WebhookDelivery, stored.id)
        assert row is not None and row.error is None and row.attempts == 1
        assert row.summary == {"unknown": [f"workfront:work_item:{ghost}"]}


def test_mcc_owned_fields_are_ignored_and_status_is_taken(world: World) -> None:
    body = wf_event("UPDATE", "PROJ", world.project_id, T0, {"name": "Renamed in Workfront", "status": "CUR"},
                    {"name": "Q1 Launch", "status": "PLN"})  # fmt: skip
    stored = deliver(world, body)
    assert process(world.sessions, world.audit, stored.id) == "processed"
    with world.sessions() as s:
        c = s.get(Campaign, world.campaign_id)
        assert c is not None and (c.name, c.status, c.status_source) == ("Q1 Launch", "in_progress", "workfront")
        summary = s.get(WebhookDelivery, stored.id).summary  # type: ignore[union-attr]
    assert summary["ignored_mcc_owned"] == [f"campaign.name@{world.campaign_id}"]
    assert events(world, "campaign.status_changed") == 1


def test_new_task_in_linked_project_becomes_a_work_item(world: World) -> None:
    tid = "c" * 32
    body = wf_event("CREATE", "TASK", tid, T0, {"name": "Brief the agency", "status": "NEW",
                                                "projectID": world.project_id, "assignedToID": WF_MAYA})  # fmt: skip
    stored = deliver(world, body)
    assert process(world.sessions, world.audit, stored.id) == "processed"
    with world.sessions() as s:
        ref = s.scalars(select(SystemRef).where(SystemRef.external_id == tid)).one()
        row = s.get(WorkItem, ref.canonical_id)
        assert row is not None and (row.name, row.campaign_id, row.assignee_id) == (
            "Brief the agency", world.campaign_id, "maya.chen")  # fmt: skip


def _mcc_changed(world: World, i: int, field: str, at: dt.datetime) -> None:
    with world.sessions() as s, s.begin():
        SpineStore(s, TENANT).sync.record("work_item", world.item_ids[i], "workfront", [field], source="mcc",
                                          at=at, status="pending")  # fmt: skip


def test_last_write_wins_by_time(world: World) -> None:
    _mcc_changed(world, 0, "planned_end_date", T0 + dt.timedelta(hours=1))
    early = deliver(world, task_update(world, 0, T0, {"plannedCompletionDate": "2026-02-10T17:00:00:000-0600"},
                                       {"plannedCompletionDate": "2026-02-20T17:00:00:000-0600"}))  # fmt: skip
    process(world.sessions, world.audit, early.id)
    assert item(world, 0).planned_end_date == dt.date(2026, 2, 10)  # MCC wrote later: MCC wins
    late = deliver(world, task_update(world, 0, T0 + dt.timedelta(hours=2),
                                      {"plannedCompletionDate": "2026-02-10T17:00:00:000-0600"},
                                      {"plannedCompletionDate": "2026-02-25T17:00:00:000-0600"}))  # fmt: skip
    process(world.sessions, world.audit, late.id)
    assert item(world, 0).planned_end_date == dt.date(2026, 2, 25)
    with world.sessions() as s:  # an outbound change still in flight keeps its state
        state = s.scalars(select(SyncState).where(SyncState.canonical_id == world.item_ids[0])).one()
        assert state.status == "pending"


def test_authority_wins_for_execution_owned_field(world: World) -> None:
    _mcc_changed(world, 2, "status", T0 + dt.timedelta(hours=1))
    stored = deliver(world, task_update(world, 2, T0, {"status": "NEW"}, {"status": "CPL"}))
    process(world.sessions, world.audit, stored.id)
    assert item(world, 2).status == "completed"  # Workfront owns status, even against a later MCC change


def test_manual_conflict_listed_and_resolved(world: World) -> None:
    _mcc_changed(world, 1, "parent_item_id", T0 + dt.timedelta(hours=1))
    with world.sessions() as s, s.begin():
        s.get(WorkItem, world.item_ids[1]).parent_item_id = world.item_ids[0]  # type: ignore[union-attr]
    body = task_update(world, 1, T0 + dt.timedelta(hours=2), {"parentID": world.task_ids[0]},
                       {"parentID": world.task_ids[2]})  # fmt: skip
    assert process(world.sessions, world.audit, deliver(world, body).id) == "processed"
    assert item(world, 1).parent_item_id == world.item_ids[0]  # nothing moved until a person decides
    open_ = list_conflicts(world.sessions, TENANT)
    assert len(open_) == 1 and open_[0]["field"] == "parent_item_id"
    assert (open_[0]["mcc_value"], open_[0]["external_value"]) == (world.item_ids[0], world.item_ids[2])
    with world.sessions() as s:
        assert s.scalars(select(SyncState.status).where(SyncState.canonical_id == world.item_ids[1])).one() == \
            "conflict"  # fmt: skip
    out = resolve(world.sessions, world.audit, TENANT, open_[0]["id"], "external", "maya.chen")
    assert out["status"] == "resolved" and item(world, 1).parent_item_id == world.item_ids[2]
    assert list_conflicts(world.sessions, TENANT) == []
    with world.sessions() as s:
        assert s.scalars(select(SyncState.status).where(SyncState.canonical_id == world.item_ids[1])).one() == \
            "synced"  # fmt: skip
        assert s.scalar(select(func.count()).select_from(SyncConflict)) == 1
    assert world.audit.tail(TENANT, 1)[0].tool == "sync.resolve"
    assert world.audit.verify().ok


def test_resolving_with_mcc_value_sends_it_out_again(world: World) -> None:
    _mcc_changed(world, 1, "parent_item_id", T0 + dt.timedelta(hours=1))
    body = task_update(world, 1, T0 + dt.timedelta(hours=2), {"parentID": None}, {"parentID": world.task_ids[2]})
    process(world.sessions, world.audit, deliver(world, body).id)
    conflict = list_conflicts(world.sessions, TENANT)[0]
    resolve(world.sessions, world.audit, TENANT, conflict["id"], "mcc", "maya.chen")
    assert item(world, 1).parent_item_id is None
    with world.sessions() as s:
        assert s.scalars(select(SyncState.status).where(SyncState.canonical_id == world.item_ids[1])).one() == \
            "pending"  # fmt: skip
    with pytest.raises(Exception, match="already resolved"):
        resolve(world.sessions, world.audit, TENANT, conflict["id"], "external", "maya.chen")


def test_malformed_stored_body_fails_after_attempts_and_is_kept(world: World) -> None:
    stored = deliver(world, b'{"eventType": "UPDATE"}')
    statuses = [process(world.sessions, world.audit, stored.id) for _ in range(5)]
    assert statuses[:4] == ["received"] * 4 and statuses[4] == "failed"
    with world.sessions() as s:
        row = s.get(WebhookDelivery, stored.id)
        assert row is not None and row.attempts == 5 and "newState" in (row.error or "")
    assert process_pending(world.sessions, world.audit) == {}
