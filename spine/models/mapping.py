"""Cross-system identity: system refs, tracking keys, per-field sync state (seed §6, §8)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, JSONType, UTCDateTime, utcnow
from spine.models._base import IdMixin, TenantMixin


class SystemRef(IdMixin, TenantMixin, Base):
    """canonical id <-> (system, external id), indexed both ways."""

    __tablename__ = "system_refs"
    __table_args__ = (
        UniqueConstraint("system", "entity_type", "external_id"),
        Index("ix_system_refs_entity_canonical", "entity_type", "canonical_id"),
    )

    entity_type: Mapped[str] = mapped_column(String(32))
    canonical_id: Mapped[str] = mapped_column(String(36))
    system: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    external_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sync_version: Mapped[int] = mapped_column(Integer, default=1)


class CampaignTrackingKeys(TenantMixin, Base):
    """The per-system tracking keys generated when a campaign is created (seed §8.2)."""

    __tablename__ = "campaign_tracking_keys"
    __table_args__ = (
        Index("ix_campaign_tracking_keys_adobe", "tenant_id", "adobe_analytics"),
        Index("ix_campaign_tracking_keys_google", "tenant_id", "google_analytics"),
        Index("ix_campaign_tracking_keys_internal", "tenant_id", "internal_metrics"),
    )

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    adobe_analytics: Mapped[str] = mapped_column(String(220))
    google_analytics: Mapped[str] = mapped_column(String(32))
    salesforce: Mapped[str | None] = mapped_column(String(64))
    internal_metrics: Mapped[str] = mapped_column(String(64))
    utm_template: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncState(IdMixin, TenantMixin, Base):
    """Per (entity, system) sync bookkeeping with a version and timestamp for every field."""

    __tablename__ = "sync_states"
    __table_args__ = (UniqueConstraint("entity_type", "canonical_id", "system"),)

    entity_type: Mapped[str] = mapped_column(String(32))
    canonical_id: Mapped[str] = mapped_column(String(36))
    system: Mapped[str] = mapped_column(String(32))
    # {field: {"version": int, "updated_at": iso, "source": system, "value_hash": str|None}}
    field_versions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="synced")
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
