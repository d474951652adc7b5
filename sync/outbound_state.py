"""Outbound bookkeeping in the spine: which MCC-owned campaign fields still have to reach which linked project.

``plan`` reads ``campaign.updated`` events of the outbox (MCC's own changes only, so an inbound change is never
echoed back) after the last planned one, keeps the fields the authority matrix sends to the execution system, and
for every linked Workfront / Asana project bumps those fields' versions in the campaign's ``SyncState`` for that
system and sets it ``pending``. A ``sync.outbound_planned`` event records how far the outbox was read, in the same
transaction, so a restart neither loses nor re-plans a change.

Per field, ``field_versions[f]`` keeps the shared ``version`` (bumped by every change, inbound ones too) and, for
outbound, ``out`` (the version MCC wants sent) and ``sent`` (the last one sent): pending while ``out > sent``, so an
inbound change is never taken for one to send back.
``claim`` moves the state ``pending -> syncing`` and returns the current MCC values of the pending fields (several
edits in a row go out as one update); ``confirm`` records what was sent (``syncing -> synced``, or back to
``pending`` when the field changed again meanwhile); ``fail`` sets ``error`` and writes the error log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spine.authority import Direction, Owner, rule_for
from spine.db import utcnow
from spine.models import Campaign, EventLog, SyncState, SystemRef, Tenant
from spine.repositories import SpineStore

SYSTEMS = ("workfront", "asana")
# Canonical campaign fields that have a home in the external project (the matrix must also send them out).
PROPAGATED = ("name", "description", "tier", "budget_planned", "launch_date", "end_date")
_SENT_DIRECTIONS = {Direction.MCC_TO_EXECUTION, Direction.MCC_TO_ALL, Direction.BIDIRECTIONAL}
CURSOR_EVENT = "sync.outbound_planned"


def outbound_fields() -> tuple[str, ...]:
    """The propagated fields that the authority matrix gives to MCC and sends to the execution system."""
    out = []
    for name in PROPAGATED:
        rule = rule_for(f"campaign.{name}")
        if rule.owner is Owner.MCC and rule.direction in _SENT_DIRECTIONS:
            out.append(name)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Target:
    """One (campaign, system) pair with changes to send."""

    tenant_id: str
    campaign_id: str
    system: str

    @property
    def key(self) -> str:
        return f"{self.tenant_id}:{self.campaign_id}:{self.system}"


@dataclass(frozen=True, slots=True)
class Claim:
    """What one propagation sends: the external project, the MCC values of the pending fields and their versions."""

    external_id: str
    values: dict[str, Any]
    versions: dict[str, int]


def state_row(session: Session, tenant_id: str, campaign_id: str, system: str, *, create: bool) -> SyncState | None:
    # FOR UPDATE: the planner and a workflow's claim/confirm read-modify-write the same JSON (PostgreSQL).
    row = session.scalar(
        select(SyncState)
        .where(SyncState.entity_type == "campaign", SyncState.canonical_id == campaign_id, SyncState.system == system)
        .with_for_update()
    )
    if row is None and create:
        row = SyncState(tenant_id=tenant_id, entity_type="campaign", canonical_id=campaign_id, system=system,
                        field_versions={}, status="synced")  # fmt: skip
        session.add(row)
    return row


def _cursor(session: Session, tenant_id: str) -> int:
    payload = session.scalar(
        select(EventLog.payload)
        .where(EventLog.tenant_id == tenant_id, EventLog.event_type == CURSOR_EVENT)
        .order_by(EventLog.seq.desc())
        .limit(1)
    )
    return int(payload["through_seq"]) if payload else 0


def plan(session: Session, tenant_id: str, *, limit: int = 1000) -> list[Target]:
    """Turn new MCC campaign changes into pending field versions; returns every (campaign, system) waiting for a
    workflow (``pending``). Runs in the caller's transaction."""
    store = SpineStore(session, tenant_id)
    # One planner per tenant at a time (row lock on PostgreSQL; SQLite already has a single writer).
    session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    after = _cursor(session, tenant_id)
    events = store.events.list(event_type="campaign.updated", after_seq=after, limit=limit)
    wanted = set(outbound_fields())
    now = utcnow().isoformat()
    for event in events:
        payload = event.payload
        if payload.get("source_system", "mcc") != "mcc":
            continue
        fields = sorted(wanted & set(payload.get("changed_fields") or []))
        if not fields:
            continue
        refs = session.execute(
            select(SystemRef.system).where(
                SystemRef.tenant_id == tenant_id, SystemRef.entity_type == "campaign",
                SystemRef.canonical_id == event.aggregate_id, SystemRef.system.in_(SYSTEMS),
            )
        ).scalars()  # fmt: skip
        for system in refs:
            row = state_row(session, tenant_id, event.aggregate_id, system, create=True)
            assert row is not None
            versions = dict(row.field_versions or {})
            for name in fields:
                prev = versions.get(name, {})
                version = int(prev.get("version", 0)) + 1
                versions[name] = {**prev, "version": version, "updated_at": now, "source": "mcc", "out": version,
                                  "sent": int(prev.get("sent", 0))}  # fmt: skip
            row.field_versions = versions  # reassign: JSON columns track assignment, not mutation
            if row.status in ("synced", "error", "pending"):  # a workflow's syncing, inbound's conflict: theirs
                row.status = "pending"
    if events:
        store.events.append(CURSOR_EVENT, "outbound", "cursor", {"through_seq": events[-1].seq}, "sync")
    session.flush()
    return pending(session, tenant_id)


def pending(session: Session, tenant_id: str) -> list[Target]:
    """(campaign, system) pairs with MCC changes waiting for a workflow (``pending``, or ``synced`` again after
    inbound processing settled a conflict). A ``syncing`` pair already has one (running, or recovered by DBOS when
    its process restarts), so it is never handed to a second one; a ``conflict`` waits for its resolution."""
    rows = session.execute(
        select(SyncState.canonical_id, SyncState.system, SyncState.field_versions).where(
            SyncState.tenant_id == tenant_id, SyncState.entity_type == "campaign",
            SyncState.system.in_(SYSTEMS), SyncState.status.in_(("pending", "synced")),
        ).order_by(SyncState.canonical_id, SyncState.system)
    )  # fmt: skip
    # Only pairs with MCC changes to send: inbound processing may mark a state pending for its own reasons.
    return [Target(tenant_id, cid, system) for cid, system, versions in rows if _unsent(versions)]


def _values(campaign: Campaign, fields: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        if name == "budget_planned":
            amount, currency = campaign.budget_planned_amount, campaign.budget_planned_currency
            out[name] = None if amount is None else {"amount": str(amount), "currency": currency}
        elif name in ("launch_date", "end_date"):
            value = getattr(campaign, name)
            out[name] = None if value is None else value.isoformat()
        else:
            out[name] = getattr(campaign, name)
    return out


def _unsent(field_versions: dict[str, Any] | None) -> dict[str, int]:
    """Outbound fields whose wanted version (``out``) is ahead of the one sent -> that version."""
    out: dict[str, int] = {}
    for name, entry in (field_versions or {}).items():
        if isinstance(entry, dict) and int(entry.get("out", 0)) > int(entry.get("sent", 0)):
            out[name] = int(entry["out"])
    return out


def claim(session: Session, target: Target) -> Claim | None:
    """``pending -> syncing``; the current MCC values of the unsent fields, or None when nothing is left."""
    row = state_row(session, target.tenant_id, target.campaign_id, target.system, create=False)
    if row is None or row.tenant_id != target.tenant_id:
        return None
    versions = _unsent(row.field_versions)
    external_id = session.scalar(
        select(SystemRef.external_id).where(
            SystemRef.tenant_id == target.tenant_id, SystemRef.entity_type == "campaign",
            SystemRef.canonical_id == target.campaign_id, SystemRef.system == target.system,
        )
    )  # fmt: skip
    if not versions or external_id is None:
        if row.status == "syncing":  # ours: nothing (more) to send; any other status belongs to inbound processing
            row.status = "synced"
            session.flush()
        return None
    campaign = SpineStore(session, target.tenant_id).campaigns.get_model(target.campaign_id)
    row.status = "syncing"
    session.flush()
    fields = set(versions)
    if fields & {"launch_date", "end_date"}:
        fields |= {"launch_date", "end_date"}  # dates go as a pair: the system checks their order
    return Claim(external_id=external_id, values=_values(campaign, sorted(fields)), versions=versions)


def confirm(session: Session, target: Target, versions: dict[str, int], sent: dict[str, Any]) -> str:
    """Record the claimed versions as sent; the new status: ``synced``, or still ``syncing`` when the campaign was
    edited meanwhile (the same workflow claims again, so no second one races it to the project)."""
    row = state_row(session, target.tenant_id, target.campaign_id, target.system, create=False)
    assert row is not None, "confirm without a claim"
    now = utcnow()
    field_versions = dict(row.field_versions or {})
    for name, version in versions.items():
        entry = dict(field_versions.get(name, {}))
        entry["sent"] = max(int(entry.get("sent", 0)), version)
        entry["sent_at"] = now.isoformat()
        field_versions[name] = entry
    row.field_versions = field_versions
    left = bool(_unsent(field_versions))
    row.status = "syncing" if left else "synced"
    row.last_synced_at = now
    ref = session.scalar(
        select(SystemRef).where(
            SystemRef.tenant_id == target.tenant_id, SystemRef.entity_type == "campaign",
            SystemRef.canonical_id == target.campaign_id, SystemRef.system == target.system,
        )
    )  # fmt: skip
    if ref is not None:
        ref.last_synced_at = now
        ref.sync_version += 1
    SpineStore(session, target.tenant_id).events.append(
        "campaign.synced", "campaign", target.campaign_id,
        {"campaign_id": target.campaign_id, "system": target.system, "fields": sorted(versions), "sent": sent},
        "sync",
    )  # fmt: skip
    session.flush()
    return row.status


def fail(
    session: Session, target: Target, step: str, error: BaseException, workflow_id: str | None,
    *, attempts: int | None = None,
) -> None:  # fmt: skip
    """``syncing -> error`` and an error-log entry naming the step, the kind of failure and the fix if known."""
    row = state_row(session, target.tenant_id, target.campaign_id, target.system, create=False)
    if row is not None:
        row.status = "error"
    details = {
        "system": target.system,
        "code": getattr(error, "code", None),
        "field": getattr(error, "field", None),
        "fix": getattr(error, "fix", None),
        "retry_after": getattr(error, "retry_after", None),
        "attempts": attempts,
    }
    SpineStore(session, target.tenant_id).errors.log(
        step, str(error)[:2000], error_type=getattr(error, "kind", type(error).__name__), details=details,
        campaign_id=target.campaign_id, request_id=workflow_id,
    )  # fmt: skip
    session.flush()


def retry_errors(session: Session, tenant_id: str) -> int:
    """Put every propagation in ``error`` back to ``pending`` (after the cause is fixed); how many."""
    rows = session.scalars(
        select(SyncState).where(
            SyncState.tenant_id == tenant_id, SyncState.status == "error", SyncState.system.in_(SYSTEMS)
        )
    ).all()
    for row in rows:
        row.status = "pending"
    session.flush()
    return len(rows)
