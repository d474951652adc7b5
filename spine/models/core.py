"""Tenants, the principal directory, and the canonical campaign entities (seed §3-4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, JSONType, UTCDateTime, utcnow
from spine.models._base import IdMixin, SchemaVersionMixin, TenantMixin, TimestampMixin

Money = Numeric(18, 4)


class Tenant(SchemaVersionMixin, Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16), default="org")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A principal of one tenant; ``user_id`` is unique inside the tenant (e.g. ``maya.chen``)."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "workfront_user_id"),
        UniqueConstraint("tenant_id", "asana_user_gid"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The same person in the execution systems (the identity map): one MCC user per external user in a tenant.
    workfront_user_id: Mapped[str | None] = mapped_column(String(32))
    asana_user_gid: Mapped[str | None] = mapped_column(String(32))


class GroupMembership(Base):
    __tablename__ = "group_memberships"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.user_id"]),
        Index("ix_group_memberships_tenant_group", "tenant_id", "group_name"),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(64), primary_key=True)


class Campaign(IdMixin, TenantMixin, SchemaVersionMixin, TimestampMixin, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_tenant_status", "tenant_id", "status"),
        Index("ix_campaigns_tenant_launch", "tenant_id", "launch_date"),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    tier: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="draft")
    status_updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_source: Mapped[str] = mapped_column(String(16), default="mcc")
    launch_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    owner_id: Mapped[str] = mapped_column(String(128))
    team_id: Mapped[str | None] = mapped_column(String(128))
    stakeholder_ids: Mapped[list[str] | None] = mapped_column(JSON)
    budget_planned_amount: Mapped[Decimal | None] = mapped_column(Money)
    budget_planned_currency: Mapped[str | None] = mapped_column(String(3))
    budget_committed_amount: Mapped[Decimal | None] = mapped_column(Money)
    budget_committed_currency: Mapped[str | None] = mapped_column(String(3))
    budget_spent_amount: Mapped[Decimal | None] = mapped_column(Money)
    budget_spent_currency: Mapped[str | None] = mapped_column(String(3))
    channels: Mapped[list[str] | None] = mapped_column(JSON)
    audiences: Mapped[list[str] | None] = mapped_column(JSON)
    products: Mapped[list[str] | None] = mapped_column(JSON)
    regions: Mapped[list[str] | None] = mapped_column(JSON)
    tags: Mapped[list[str] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    updated_by: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Strategy(IdMixin, TenantMixin, SchemaVersionMixin, TimestampMixin, Base):
    """A versioned planning artifact; content is frozen once it leaves draft."""

    __tablename__ = "strategies"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(32), default="draft")
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_version_id: Mapped[str | None] = mapped_column(ForeignKey("strategies.id"))
    generated_by: Mapped[str] = mapped_column(String(16), default="human")
    agent_session_id: Mapped[str | None] = mapped_column(String(128))
    prompt_used: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))


class WorkItem(IdMixin, TenantMixin, SchemaVersionMixin, TimestampMixin, Base):
    __tablename__ = "work_items"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    parent_item_id: Mapped[str | None] = mapped_column(ForeignKey("work_items.id"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    item_type: Mapped[str] = mapped_column(String(32), default="task")
    priority: Mapped[str] = mapped_column(String(16), default="medium")
    status: Mapped[str] = mapped_column(String(32), default="not_started")
    status_updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    percent_complete: Mapped[int] = mapped_column(Integer, default=0)
    planned_start_date: Mapped[dt.date | None] = mapped_column(Date)
    planned_end_date: Mapped[dt.date | None] = mapped_column(Date)
    actual_start_date: Mapped[dt.date | None] = mapped_column(Date)
    actual_end_date: Mapped[dt.date | None] = mapped_column(Date)
    duration_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    assignee_id: Mapped[str | None] = mapped_column(String(128))
    assignee_email: Mapped[str | None] = mapped_column(String(320))
    team_id: Mapped[str | None] = mapped_column(String(128))
    source_system: Mapped[str] = mapped_column(String(16), default="mcc")
    external_id: Mapped[str | None] = mapped_column(String(128))
    external_url: Mapped[str | None] = mapped_column(String(2048))
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sync_status: Mapped[str] = mapped_column(String(16), default="pending")
    sync_error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Asset(IdMixin, TenantMixin, SchemaVersionMixin, TimestampMixin, Base):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("tenant_id", "source", "source_asset_id"),)

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(2048))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    source: Mapped[str] = mapped_column(String(16), default="dam")
    source_asset_id: Mapped[str | None] = mapped_column(String(128))
