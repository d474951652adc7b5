"""System refs (canonical id <-> external id, both ways), tracking keys, per-field sync state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from spine.db import utcnow
from spine.enums import EntityType, ExternalSystem
from spine.errors import NotFoundError, TenantIsolationError, ValidationError
from spine.models import Asset, Campaign, CampaignTrackingKeys, Run, Strategy, SyncState, SystemRef, WorkItem
from spine.repositories.base import TenantScoped
from spine.schemas import check_external_id
from spine.tracking_keys import TrackingKeys

ENTITY_MODELS: dict[str, type] = {
    "campaign": Campaign,
    "strategy": Strategy,
    "work_item": WorkItem,
    "asset": Asset,
    "run": Run,
}
TRACKING_SYSTEMS = ("adobe_analytics", "google_analytics", "salesforce", "internal_metrics")


class SystemRefOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    tenant_id: str
    entity_type: str
    canonical_id: str
    system: str
    external_id: str
    external_url: str | None
    created_at: dt.datetime
    last_synced_at: dt.datetime | None
    sync_version: int


def resolve_external_id(session: Session, system: str, entity_type: str, external_id: str) -> SystemRefOut | None:
    """Tenant-less lookup for inbound webhooks: which tenant and canonical id own this external id."""
    row = session.scalar(
        select(SystemRef).where(
            SystemRef.system == system, SystemRef.entity_type == entity_type, SystemRef.external_id == external_id
        )
    )
    return SystemRefOut.model_validate(row) if row is not None else None


def canonical_of(session: Session, tenant_id: str, system: str, entity_type: str, external_id: str) -> str | None:
    """External id -> canonical id of ``tenant_id`` (None when unmapped) in one Core query: the read tools call
    this on every call. Another tenant's mapping is a ``TenantIsolationError``."""
    row = session.execute(
        select(SystemRef.tenant_id, SystemRef.canonical_id).where(
            SystemRef.system == system, SystemRef.entity_type == entity_type, SystemRef.external_id == external_id
        )
    ).first()
    if row is None:
        return None
    if row[0] != tenant_id:
        raise TenantIsolationError("system_ref", f"{system}:{external_id}", tenant_id)
    return str(row[1])


def _check_enum(field: str, value: str, allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise ValidationError(field, f"{value!r} is not a valid {field}", f"use one of {allowed}")


class SystemRefRepository(TenantScoped):
    """The identity layer of one tenant."""

    def link(
        self,
        entity_type: str,
        canonical_id: str,
        system: str,
        external_id: str,
        *,
        external_url: str | None = None,
        actor: str | None = None,
    ) -> SystemRefOut:
        """Map a canonical entity to an external id; idempotent for the same mapping."""
        _check_enum("entity_type", entity_type, ENTITY_MODELS)
        _check_enum("system", system, [s.value for s in ExternalSystem])
        if not external_id or len(external_id) > 200:
            raise ValidationError("external_id", "external_id must be 1-200 characters", "send the system's id")
        try:
            check_external_id(system, external_id)
        except ValueError as exc:
            raise ValidationError("external_id", str(exc), "copy the id from the system") from None
        self._owned(ENTITY_MODELS[entity_type], canonical_id, entity_type, "canonical_id")
        existing = self.session.scalar(
            select(SystemRef).where(
                SystemRef.system == system, SystemRef.entity_type == entity_type, SystemRef.external_id == external_id
            )
        )
        if existing is not None:
            if existing.tenant_id != self.tenant_id:
                raise TenantIsolationError("system_ref", f"{system}:{external_id}", self.tenant_id)
            if existing.canonical_id != canonical_id:
                raise ValidationError(
                    "external_id",
                    f"{system} {entity_type} {external_id!r} is already linked to {existing.canonical_id!r}",
                    "unlink it first or use the right external id",
                )
            return SystemRefOut.model_validate(existing)
        row = SystemRef(
            tenant_id=self.tenant_id,
            entity_type=entity_type,
            canonical_id=canonical_id,
            system=system,
            external_id=external_id,
            external_url=external_url,
            last_synced_at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        self._emit(
            "system_ref.linked",
            "system_ref",
            canonical_id,
            {"entity_type": entity_type, "canonical_id": canonical_id, "system": system, "external_id": external_id},
            actor,
        )
        self.session.flush()
        return SystemRefOut.model_validate(row)

    def canonical_id(self, system: str, entity_type: str, external_id: str) -> str | None:
        """External id -> canonical id (None when unmapped); another tenant's mapping is an error."""
        return canonical_of(self.session, self.tenant_id, system, entity_type, external_id)

    def external_ids(self, entity_type: str, canonical_id: str) -> list[SystemRefOut]:
        """Canonical id -> every external mapping."""
        rows = list(
            self.session.scalars(
                select(SystemRef)
                .where(SystemRef.entity_type == entity_type, SystemRef.canonical_id == canonical_id)
                .order_by(SystemRef.system)
            )
        )
        if any(r.tenant_id != self.tenant_id for r in rows):
            raise TenantIsolationError(entity_type, canonical_id, self.tenant_id)
        return [SystemRefOut.model_validate(r) for r in rows]

    def external_id(self, entity_type: str, canonical_id: str, system: str) -> str | None:
        """The id of ``canonical_id`` in ``system`` (None when unmapped)."""
        for ref in self.external_ids(entity_type, canonical_id):
            if ref.system == system:
                return ref.external_id
        return None

    def mark_synced(self, system: str, entity_type: str, external_id: str) -> SystemRefOut:
        """Record a successful sync: ``last_synced_at`` now, ``sync_version`` + 1."""
        row = self.session.scalar(
            select(SystemRef).where(
                SystemRef.system == system, SystemRef.entity_type == entity_type, SystemRef.external_id == external_id
            )
        )
        if row is None:
            raise NotFoundError("system_ref", f"{system}:{external_id}", "external_id")
        if row.tenant_id != self.tenant_id:
            raise TenantIsolationError("system_ref", f"{system}:{external_id}", self.tenant_id)
        row.last_synced_at = utcnow()
        row.sync_version += 1
        self.session.flush()
        return SystemRefOut.model_validate(row)


class TrackingKeyRepository(TenantScoped):
    def get(self, campaign_id: str) -> TrackingKeys:
        self._owned(Campaign, campaign_id, "campaign", "campaign_id")
        row = self.session.get(CampaignTrackingKeys, campaign_id)
        if row is None:
            raise NotFoundError("tracking_keys", campaign_id, "campaign_id")
        return TrackingKeys(
            campaign_id=row.campaign_id,
            adobe_analytics=row.adobe_analytics,
            google_analytics=row.google_analytics,
            internal_metrics=row.internal_metrics,
            utm_template=dict(row.utm_template),
            salesforce=row.salesforce,
        )

    def find_campaign(self, tracking_system: str, key: str) -> list[str]:
        """Campaign ids of this tenant whose key in ``tracking_system`` is ``key`` (for attribution)."""
        _check_enum("tracking_system", tracking_system, TRACKING_SYSTEMS)
        column = getattr(CampaignTrackingKeys, tracking_system)
        stmt = select(CampaignTrackingKeys.campaign_id).where(
            CampaignTrackingKeys.tenant_id == self.tenant_id, column == key
        )
        return list(self.session.scalars(stmt))

    def set_salesforce(self, campaign_id: str, salesforce_id: str) -> TrackingKeys:
        self.get(campaign_id)
        row = self.session.get(CampaignTrackingKeys, campaign_id)
        assert row is not None
        row.salesforce = salesforce_id
        self.session.flush()
        return self.get(campaign_id)


class SyncStateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    entity_type: str
    canonical_id: str
    system: str
    field_versions: dict[str, Any]
    status: str
    last_synced_at: dt.datetime | None


class SyncStateRepository(TenantScoped):
    """Per-field versions of an entity as seen by one external system."""

    def get(self, entity_type: str, canonical_id: str, system: str) -> SyncStateOut | None:
        row = self._row(entity_type, canonical_id, system)
        return SyncStateOut.model_validate(row) if row is not None else None

    def field_version(self, entity_type: str, canonical_id: str, system: str, field: str) -> int:
        state = self.get(entity_type, canonical_id, system)
        return int(state.field_versions.get(field, {}).get("version", 0)) if state else 0

    def record(
        self,
        entity_type: str,
        canonical_id: str,
        system: str,
        fields: Iterable[str],
        *,
        source: str,
        at: dt.datetime | None = None,
        status: str = "synced",
    ) -> SyncStateOut:
        """Bump the version of each changed field and stamp who changed it and when."""
        _check_enum("entity_type", entity_type, [e.value for e in EntityType])
        _check_enum("status", status, ["synced", "pending", "conflict", "error"])
        self._owned(ENTITY_MODELS[entity_type], canonical_id, entity_type, "canonical_id")
        when = at or utcnow()
        row = self._row(entity_type, canonical_id, system)
        if row is None:
            row = SyncState(
                tenant_id=self.tenant_id,
                entity_type=entity_type,
                canonical_id=canonical_id,
                system=system,
                field_versions={},
            )
            self.session.add(row)
        versions = dict(row.field_versions or {})
        for f in fields:
            prev = versions.get(f, {})
            versions[f] = {"version": int(prev.get("version", 0)) + 1, "updated_at": when.isoformat(), "source": source}
        row.field_versions = versions  # reassign so the JSON change is tracked
        row.status = status
        row.last_synced_at = when
        self.session.flush()
        return SyncStateOut.model_validate(row)

    def _row(self, entity_type: str, canonical_id: str, system: str) -> SyncState | None:
        row = self.session.scalar(
            select(SyncState).where(
                SyncState.entity_type == entity_type,
                SyncState.canonical_id == canonical_id,
                SyncState.system == system,
            )
        )
        if row is not None and row.tenant_id != self.tenant_id:
            raise TenantIsolationError(entity_type, canonical_id, self.tenant_id)
        return row


__all__ = [
    "ENTITY_MODELS",
    "SyncStateOut",
    "SyncStateRepository",
    "SystemRefOut",
    "SystemRefRepository",
    "TrackingKeyRepository",
    "resolve_external_id",
]
