"""Inbound sync tables: the webhook inbox, the per-tenant webhook secrets, and the conflicts a person resolves.

Every accepted delivery is stored before it is acknowledged (unique per tenant, system and delivery id, so a
redelivery is a no-op); processing then moves it to processed, failed or ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, JSONType, UTCDateTime, utcnow
from spine.models._base import new_id


class WebhookDelivery(Base):
    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("tenant_id", "system", "delivery_id"),
        Index("ix_webhook_inbox_status_received", "status", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    system: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(128))
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType)  # non-secret headers only
    body: Mapped[str] = mapped_column(Text)  # the raw body (UTF-8 JSON, verified before it was stored)
    status: Mapped[str] = mapped_column(String(16), default="received")  # received|processed|failed|ignored
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # what processing did (applied, unknown ids)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookSecret(Base):
    """The secret that authenticates one webhook's deliveries: Asana's handshake secret (per hook) or the
    Workfront shared token (per tenant). Held as a reference or encrypted, never in clear."""

    __tablename__ = "webhook_secrets"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    system: Mapped[str] = mapped_column(String(16), primary_key=True)
    hook: Mapped[str] = mapped_column(String(64), primary_key=True)  # Asana resource gid, or "default"
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending (awaiting handshake) | active
    pending_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    secret_ref: Mapped[str | None] = mapped_column(String(500))
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)  # Asana webhook gid / Workfront subscription ids
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SyncConflict(Base):
    """A MANUAL conflict (or one kept for review): both sides' values, waiting for ``mcc sync resolve``."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_tenant_status", "tenant_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    entity_type: Mapped[str] = mapped_column(String(32))
    canonical_id: Mapped[str] = mapped_column(String(36))
    system: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(64))
    mcc_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    external_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    external_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    delivery_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    resolution: Mapped[Any] = mapped_column(JSONType, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
