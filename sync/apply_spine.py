"""Apply external changes to the spine inside the caller's transaction: external ids -> canonical ids (SystemRef),
field authority and conflicts (``sync.field_rules``), new tasks in linked projects become work items, unknown ids
are recorded (never an error storm), and every write appends its domain event to the outbox."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spine.db import utcnow
from spine.errors import SpineError, TenantIsolationError, ValidationError
from spine.models import Campaign, SyncState, SystemRef, WorkItem
from spine.repositories import SpineStore
from sync.changes import ExternalChange
from sync.field_rules import FieldDecider, Outcome

log = logging.getLogger("mcc.sync.inbound")
WORK_FIELDS = ("name", "description", "status", "percent_complete", "planned_start_date", "planned_end_date",
               "assignee_id", "parent_item_id")  # fmt: skip
CAMPAIGN_FIELDS = ("name", "description", "status", "launch_date", "end_date", "budget_planned")


@dataclass
class Lookups:
    """What a batch of changes needs, read in three queries up front instead of several per change."""

    refs: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)  # -> (tenant, canonical id)
    asked: set[tuple[str, str, str]] = field(default_factory=set)  # (system, entity, external id) looked up
    states: dict[tuple[str, str, str], SyncState] = field(default_factory=dict)  # (entity, canonical, system)
    states_for: set[str] = field(default_factory=set)  # canonical ids whose sync states were read
    held: list[WorkItem] = field(default_factory=list)  # strong references: the identity map holds weak ones

    @classmethod
    def prefetch(cls, session: Session, changes: list[ExternalChange]) -> Lookups:
        out = cls()
        wanted: set[tuple[str, str, str]] = set()
        for c in changes:
            wanted.add((c.system, c.entity, c.external_id))
            if c.parent_external:
                wanted.add((c.system, "work_item", c.parent_external))
            if c.project_external_id:
                wanted.add((c.system, "campaign", c.project_external_id))
        ids = sorted({w[2] for w in wanted})
        for i in range(0, len(ids), 500):
            q = select(SystemRef.system, SystemRef.entity_type, SystemRef.external_id, SystemRef.tenant_id,
                       SystemRef.canonical_id).where(SystemRef.external_id.in_(ids[i : i + 500]))  # fmt: skip
            for system, entity, ext, tenant, canonical in session.execute(q):
                out.refs[(system, entity, ext)] = (tenant, canonical)
        out.asked = wanted
        items = sorted({v[1] for k, v in out.refs.items() if k[1] == "work_item"})
        for i in range(0, len(items), 500):
            chunk = items[i : i + 500]
            out.held += session.scalars(select(WorkItem).where(WorkItem.id.in_(chunk)))  # into the identity map
            for st in session.scalars(select(SyncState).where(SyncState.canonical_id.in_(chunk))):
                out.states[(st.entity_type, st.canonical_id, st.system)] = st
            out.states_for.update(chunk)
        return out


@dataclass
class Applier:
    """Applies the changes of one delivery for one tenant."""

    store: SpineStore
    delivery_id: str | None
    outcome: Outcome
    careful: bool = True  # each change in a savepoint, a refused one recorded; False: any refusal raises
    lookups: Lookups | None = None

    @property
    def actor(self) -> str:
        return "sync:inbound"

    def apply(self, change: ExternalChange) -> None:
        """Apply one change in a savepoint: a change the spine refuses is recorded and the others still apply.
        Not careful (batches): no savepoint, and a refusal raises so the caller retries the delivery carefully."""
        session = self.store.session
        if not self.careful:
            self._one(change)
            return
        before = (len(self.outcome.applied), len(self.outcome.created), len(self.outcome.conflicts))
        try:
            with session.begin_nested():
                self._one(change)
        except SpineError as exc:
            # The savepoint undid the whole change: it did not apply, whatever it had counted.
            del self.outcome.applied[before[0] :], self.outcome.created[before[1] :]
            del self.outcome.conflicts[before[2] :]
            self._refused(change, exc)

    def _refused(self, change: ExternalChange, exc: SpineError) -> None:
        if isinstance(exc, TenantIsolationError):
            self.outcome.unknown.append(f"{change.system}:{change.entity}:{change.external_id} (another tenant)")
        else:
            self.outcome.rejected.append(f"{change.system}:{change.external_id}: {exc}"[:300])

    def _one(self, change: ExternalChange) -> None:
        if change.entity == "work_item":
            self._work_item(change)
        else:
            self._campaign(change)

    def _canonical(self, system: str, entity: str, external_id: str) -> str | None:
        key = (system, entity, external_id)
        if self.lookups is None or key not in self.lookups.asked:
            return self.store.refs.canonical_id(system, entity, external_id)
        found = self.lookups.refs.get(key)
        if found is None:
            return None
        if found[0] != self.store.tenant_id:
            raise TenantIsolationError("system_ref", f"{system}:{external_id}", self.store.tenant_id)
        return found[1]

    def _decider(self, entity: str, canonical_id: str, system: str) -> FieldDecider:
        state: SyncState | bool | None = False  # False: not prefetched, the decider reads it
        if self.lookups is not None and canonical_id in self.lookups.states_for:
            state = self.lookups.states.get((entity, canonical_id, system))
        decider = FieldDecider(self.store.session, self.store.tenant_id, entity, canonical_id, system,
                               self.delivery_id, self.outcome, state)  # fmt: skip
        if self.lookups is not None and canonical_id in self.lookups.states_for:
            self.lookups.states[(entity, canonical_id, system)] = decider.state
        return decider

    def _unknown(self, change: ExternalChange) -> None:
        self.outcome.unknown.append(f"{change.system}:{change.entity}:{change.external_id}")
        log.info("inbound %s %s %s is not linked to the spine; recorded", change.system, change.entity,
                 change.external_id)  # fmt: skip

    def _mapped_fields(self, change: ExternalChange) -> dict[str, Any]:
        fields = dict(change.fields)
        if change.assignee_external is not None:
            user = (self.store.directory.user_for_identity(change.system, change.assignee_external)
                    if change.assignee_external else None)  # fmt: skip
            fields["assignee_id"] = user.user_id if user is not None else None
        if change.parent_external is not None:
            parent = self._canonical(change.system, "work_item", change.parent_external) if change.parent_external \
                else None  # fmt: skip
            fields["parent_item_id"] = parent
        return fields

    def _work_item(self, change: ExternalChange) -> None:
        item_id = self._canonical(change.system, "work_item", change.external_id)
        if item_id is None:
            self._create_work_item(change)
            return
        fields = {"status": "cancelled"} if change.kind == "delete" else self._mapped_fields(change)
        row = self.store.work_items.get_model(item_id)
        current = {k: getattr(row, k) for k in WORK_FIELDS}
        decider = self._decider("work_item", item_id, change.system)
        writes = decider.decide(current, fields, change.at)
        if writes:
            self._write_item(row, writes, change.system)
        decider.save(change.at)
        self.outcome.campaigns.add(row.campaign_id)

    def _write_item(self, row: WorkItem, writes: dict[str, Any], system: str) -> None:
        # Values are already typed and mapped; the one cross-field rule is checked here (the repository's
        # update re-validates everything through pydantic, which costs more than the rest of a delivery).
        start = writes.get("planned_start_date", row.planned_start_date)
        end = writes.get("planned_end_date", row.planned_end_date)
        if start is not None and end is not None and end < start:
            raise ValidationError("planned_end_date", f"{system} sent an end ({end}) before the start ({start})",
                                  "fix the dates in the external system")  # fmt: skip
        if "percent_complete" in writes and not 0 <= int(writes["percent_complete"]) <= 100:
            raise ValidationError("percent_complete", "must be 0-100", "fix it in the external system")
        previous = {k: _jsonable(getattr(row, k)) for k in writes}
        now = utcnow()
        for key, value in writes.items():
            setattr(row, key, value)
        if "status" in writes:
            row.status_updated_at = now
        row.version += 1
        row.updated_at, row.last_synced_at, row.sync_status = now, now, "synced"
        self.store.work_items._emit("work_item.updated", "work_item", row.id, {
            "item_id": row.id, "campaign_id": row.campaign_id, "source_system": system,
            "changed_fields": sorted(writes), "previous_values": previous,
            "new_values": {k: _jsonable(v) for k, v in writes.items()}}, self.actor, now)  # fmt: skip

    def _create_work_item(self, change: ExternalChange) -> None:
        campaign_id = None
        if change.project_external_id and change.kind != "delete":
            campaign_id = self._canonical(change.system, "campaign", change.project_external_id)
        if campaign_id is None or not change.fields.get("name"):
            self._unknown(change)
            return
        fields = self._mapped_fields(change)
        spec = {k: v for k, v in fields.items() if k in WORK_FIELDS and v is not None}
        out = self.store.work_items.create(
            {**spec, "campaign_id": campaign_id, "source_system": change.system, "external_id": change.external_id,
             "sync_status": "synced"}, actor=self.actor,
        )  # fmt: skip
        self.store.refs.link("work_item", out.id, change.system, change.external_id, actor=self.actor)
        if self.lookups is not None:
            self.lookups.refs[(change.system, "work_item", change.external_id)] = (self.store.tenant_id, out.id)
        decider = FieldDecider(self.store.session, self.store.tenant_id, "work_item", out.id, change.system,
                               self.delivery_id, self.outcome)  # fmt: skip
        decider.versions = {k: {"version": 1, "updated_at": change.at.isoformat(), "source": change.system,
                                "external_at": change.at.isoformat()} for k in spec}  # fmt: skip
        decider.save(change.at)
        self.outcome.created.append(out.id)
        self.outcome.campaigns.add(campaign_id)

    def _campaign(self, change: ExternalChange) -> None:
        campaign_id = self._canonical(change.system, "campaign", change.external_id)
        if campaign_id is None:
            self._unknown(change)
            return
        if change.kind == "delete":
            # MCC owns the campaign: a deleted project only unlinks nothing; it is reported for a person to decide.
            self.outcome.rejected.append(f"{change.system}:{change.external_id}: project deleted externally")
            return
        campaigns = self.store.campaigns
        row = campaigns.get_model(campaign_id)
        current = {"name": row.name, "description": row.description, "status": row.status,
                   "launch_date": row.launch_date, "end_date": row.end_date}  # fmt: skip
        decider = self._decider("campaign", campaign_id, change.system)
        # A campaign always has a launch date: an external system without one says nothing about it.
        fields = {k: v for k, v in change.fields.items() if not (k == "launch_date" and v is None)}
        writes = decider.decide(current, fields, change.at)
        status = writes.pop("status", None)
        if status is not None:
            campaigns.set_status(campaign_id, status, source=change.system, actor=self.actor)
        if writes:
            version = self.store.session.scalar(select(Campaign.version).where(Campaign.id == campaign_id))
            campaigns.update(campaign_id, writes, expected_version=int(version or 1), actor=self.actor)
        decider.save(change.at)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def linked_project_ids(store: SpineStore, system: str) -> list[str]:
    """The external ids of the tenant's campaigns linked in ``system`` (what polling reconciles)."""
    q = select(SystemRef.external_id).where(
        SystemRef.tenant_id == store.tenant_id, SystemRef.system == system, SystemRef.entity_type == "campaign"
    )
    return list(store.session.scalars(q))


def linked_campaign_status(session: Session, tenant_id: str, system: str, external_id: str) -> str | None:
    """The spine status of the campaign linked to project ``external_id`` (None when none is linked)."""
    return session.scalar(
        select(Campaign.status).join(SystemRef, SystemRef.canonical_id == Campaign.id).where(
            SystemRef.tenant_id == tenant_id, SystemRef.system == system, SystemRef.entity_type == "campaign",
            SystemRef.external_id == external_id, Campaign.tenant_id == tenant_id,
        )
    )  # fmt: skip
