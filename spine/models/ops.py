"""Operational tables: event outbox, request idempotency, error log, workflow runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, JSONType, UTCDateTime, utcnow
from spine.models._base import IdMixin, SchemaVersionMixin, TenantMixin, TimestampMixin, new_id


class EventLog(TenantMixin, Base):
    """Outbox of domain events (campaign.created, work_item.updated, ...), in commit order."""

    __tablename__ = "event_log"
    __table_args__ = (
        Index("ix_event_log_published_seq", "published_at", "seq"),
        Index("ix_event_log_aggregate", "aggregate_type", "aggregate_id"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    event_type: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    actor: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CampaignRequest(IdMixin, TenantMixin, TimestampMixin, Base):
    """Idempotency record of one create request (seed 003: request_id / client_request_key)."""

    __tablename__ = "campaign_requests"
    __table_args__ = (UniqueConstraint("tenant_id", "client_request_key"),)

    request_id: Mapped[str] = mapped_column(String(255), unique=True)
    client_request_key: Mapped[str | None] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    step: Mapped[str | None] = mapped_column(String(100))


class ErrorLog(IdMixin, TenantMixin, Base):
    __tablename__ = "error_logs"

    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    request_id: Mapped[str | None] = mapped_column(String(255), index=True)
    step: Mapped[str] = mapped_column(String(100))
    error_type: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str] = mapped_column(Text)
    error_details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Run(IdMixin, TenantMixin, SchemaVersionMixin, TimestampMixin, Base):
    """A workflow run; ``context`` holds its CampaignContext (seed 004)."""

    __tablename__ = "runs"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    workflow_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    base_run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class RateCounter(Base):
    """One rate-limit counter (GCRA theoretical arrival time, seconds) shared by every server replica."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tat: Mapped[float] = mapped_column(Float(precision=53))
