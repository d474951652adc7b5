"""MANUAL conflicts: list them and resolve one by taking MCC's value, the external value, or a given value.
Resolving writes the value (with its outbox event), moves the sync state conflict -> resolved -> synced (the
external value was taken) or pending (MCC's value must go out again), and appends an audit row."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from spine.audit import AuditLog
from spine.db import utcnow
from spine.errors import NotFoundError, ValidationError
from spine.models import Campaign, SyncConflict, SyncState
from spine.repositories import SpineStore
from sync.state_machine import next_state


def _out(r: SyncConflict) -> dict[str, Any]:
    return {"id": r.id, "entity_type": r.entity_type, "canonical_id": r.canonical_id, "system": r.system,
            "field": r.field, "mcc_value": r.mcc_value, "external_value": r.external_value,
            "external_at": r.external_at.isoformat(), "status": r.status, "resolution": r.resolution,
            "resolved_by": r.resolved_by, "created_at": r.created_at.isoformat()}  # fmt: skip


def list_conflicts(
    sessions: sessionmaker[Session], tenant_id: str, status: str | None = "open"
) -> list[dict[str, Any]]:
    """The tenant's conflicts (open by default), oldest first."""
    q = select(SyncConflict).where(SyncConflict.tenant_id == tenant_id)
    if status is not None:
        q = q.where(SyncConflict.status == status)
    with sessions() as s:
        return [_out(r) for r in s.scalars(q.order_by(SyncConflict.created_at, SyncConflict.id))]


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # a bare word is a string value


def _write(store: SpineStore, row: SyncConflict, value: Any, actor: str) -> None:
    if row.entity_type == "work_item":
        item = store.work_items.get_model(row.canonical_id)
        if row.field == "parent_item_id":
            if value is not None:
                store.work_items.get_model(str(value))  # the parent must be one of the tenant's work items
            previous, item.parent_item_id = item.parent_item_id, value
            item.version += 1
            store.work_items._emit("work_item.updated", "work_item", item.id, {
                "item_id": item.id, "campaign_id": item.campaign_id, "source_system": "sync",
                "changed_fields": ["parent_item_id"], "previous_values": {"parent_item_id": previous},
                "new_values": {"parent_item_id": value}}, actor)  # fmt: skip
            return
        store.work_items.update(row.canonical_id, {row.field: value}, actor=actor, source_system="sync")
        return
    version = store.session.scalar(select(Campaign.version).where(Campaign.id == row.canonical_id))
    store.campaigns.update(row.canonical_id, {row.field: value}, expected_version=int(version or 1), actor=actor)


def resolve(sessions: sessionmaker[Session], audit: AuditLog, tenant_id: str, conflict_id: str, take: str,
            actor: str) -> dict[str, Any]:  # fmt: skip
    """Resolve one open conflict: ``take`` is ``mcc``, ``external`` or a value (JSON, or a bare string)."""
    with sessions() as session, session.begin():
        row = session.get(SyncConflict, conflict_id, with_for_update=True)
        if row is None or row.tenant_id != tenant_id:
            raise NotFoundError("conflict", conflict_id, "conflict_id")
        if row.status != "open":
            raise ValidationError("conflict_id", f"conflict {conflict_id} is already {row.status}",
                                  "list open ones with `mcc sync conflicts`")  # fmt: skip
        store = SpineStore(session, tenant_id)
        if take == "mcc":
            value, goes_out = row.mcc_value, True
        elif take == "external":
            value, goes_out = row.external_value, False
            _write(store, row, value, actor)
        else:
            value = _parse_value(take)
            goes_out = value != row.external_value
            _write(store, row, value, actor)
        now = utcnow()
        row.status, row.resolution = "resolved", {"take": take if take in ("mcc", "external") else "value",
                                                  "value": value}  # fmt: skip
        row.resolved_by, row.resolved_at = actor, now
        session.flush()
        _settle_state(session, row, goes_out, now)
        audit.append_in(session, tenant_id=tenant_id, actor=actor, server="sync", tool="sync.resolve",
                        decision="executed", detail={"conflict_id": row.id, "field": row.field,
                                                     "take": row.resolution["take"]})  # fmt: skip
        return _out(row)


def _settle_state(session: Session, row: SyncConflict, goes_out: bool, now: dt.datetime) -> None:
    state = session.scalar(select(SyncState).where(
        SyncState.entity_type == row.entity_type, SyncState.canonical_id == row.canonical_id,
        SyncState.system == row.system))  # fmt: skip
    if state is None:
        return
    versions = dict(state.field_versions or {})
    fv = dict(versions.get(row.field, {}))
    fv.update(version=int(fv.get("version", 0)) + 1, updated_at=now.isoformat(),
              source="mcc" if goes_out else row.system)  # fmt: skip
    versions[row.field] = fv
    state.field_versions = versions
    still_open = session.scalar(select(func.count()).select_from(SyncConflict).where(
        SyncConflict.entity_type == row.entity_type, SyncConflict.canonical_id == row.canonical_id,
        SyncConflict.system == row.system, SyncConflict.status == "open"))  # fmt: skip
    if still_open:
        return
    current = state.status if state.status in ("conflict", "resolved") else "conflict"
    state.status = next_state(next_state(current, "resolved"), "pending" if goes_out else "synced")
