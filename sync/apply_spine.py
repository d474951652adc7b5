"""Apply external changes to the spine inside the caller's transaction: external ids -> canonical ids (SystemRef),
field authority and conflicts (``sync.field_rules``), new tasks in linked projects become work items, unknown ids
are recorded (never an error storm), and every write appends its domain event to the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from spine.errors import SpineError, TenantIsolationError
from spine.models import Campaign, SystemRef, WorkItem
from spine.repositories import SpineStore
from sync.changes import ExternalChange
from sync.field_rules import FieldDecider, Outcome

log = logging.getLogger("mcc.sync.inbound")
WORK_FIELDS = ("name", "description", "status", "percent_complete", "planned_start_date", "planned_end_date",
               "assignee_id", "parent_item_id")  # fmt: skip
CAMPAIGN_FIELDS = ("name", "description", "status", "launch_date", "end_date", "budget_planned")


@dataclass
class Applier:
    """Applies the changes of one delivery for one tenant."""

    store: SpineStore
    delivery_id: str | None
    outcome: Outcome

    @property
    def actor(self) -> str:
        return "sync:inbound"

    def apply(self, change: ExternalChange) -> None:
        """Apply one change in a savepoint: a change the spine refuses is recorded and the others still apply."""
        session = self.store.session
        try:
            with session.begin_nested():
                if change.entity == "work_item":
                    self._work_item(change)
                else:
                    self._campaign(change)
        except TenantIsolationError:
            self.outcome.unknown.append(f"{change.system}:{change.entity}:{change.external_id} (another tenant)")
        except SpineError as exc:
            self.outcome.rejected.append(f"{change.system}:{change.external_id}: {exc}"[:300])

    def _canonical(self, system: str, entity: str, external_id: str) -> str | None:
        return self.store.refs.canonical_id(system, entity, external_id)

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
        decider = FieldDecider(self.store.session, self.store.tenant_id, "work_item", item_id, change.system,
                               self.delivery_id, self.outcome)  # fmt: skip
        writes = decider.decide(current, fields, change.at)
        parent = writes.pop("parent_item_id", ...)
        if writes:
            self.store.work_items.update(item_id, {**writes, "sync_status": "synced"}, actor=self.actor,
                                         source_system=change.system)  # fmt: skip
        if parent is not ...:
            self._move(row, parent)
        decider.save(change.at)
        self.outcome.campaigns.add(row.campaign_id)

    def _move(self, row: WorkItem, parent: str | None) -> None:
        # The repository's update has no parent field (a structural change): write it and say so in the outbox.
        previous = row.parent_item_id
        row.parent_item_id = parent
        row.version += 1
        self.store.work_items._emit("work_item.updated", "work_item", row.id, {
            "item_id": row.id, "campaign_id": row.campaign_id, "source_system": "sync",
            "changed_fields": ["parent_item_id"], "previous_values": {"parent_item_id": previous},
            "new_values": {"parent_item_id": parent}}, self.actor)  # fmt: skip

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
        decider = FieldDecider(self.store.session, self.store.tenant_id, "campaign", campaign_id, change.system,
                               self.delivery_id, self.outcome)  # fmt: skip
        writes = decider.decide(current, change.fields, change.at)
        status = writes.pop("status", None)
        if status is not None:
            campaigns.set_status(campaign_id, status, source=change.system, actor=self.actor)
        if writes:
            version = self.store.session.scalar(select(Campaign.version).where(Campaign.id == campaign_id))
            campaigns.update(campaign_id, writes, expected_version=int(version or 1), actor=self.actor)
        decider.save(change.at)


def linked_project_ids(store: SpineStore, system: str) -> list[str]:
    """The external ids of the tenant's campaigns linked in ``system`` (what polling reconciles)."""
    q = select(SystemRef.external_id).where(
        SystemRef.tenant_id == store.tenant_id, SystemRef.system == system, SystemRef.entity_type == "campaign"
    )
    return list(store.session.scalars(q))
