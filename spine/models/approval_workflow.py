"""Tables around approvals: delegations (out of office), per-tenant notification channels and their outbox.

Like the governance tables, ``tenant_id`` is a plain indexed string (no foreign key): these rows follow approvals,
which are writable independently of the tenant directory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, JSONType, UTCDateTime, utcnow

CHANNEL_KINDS = ("slack", "email")
OUTBOX_STATUSES = ("pending", "sent", "failed")


class ApprovalDelegation(Base):
    """``delegate`` may resolve the approvals ``delegator`` may resolve, from ``starts_at`` until ``ends_at``."""

    __tablename__ = "approval_delegations"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        Index("ix_approval_delegations_tenant_delegate", "tenant_id", "delegate"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    delegator: Mapped[str] = mapped_column(String(128))
    delegate: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class NotificationChannel(Base):
    """Where a tenant's approval notifications go. The secret (Slack webhook URL, SMTP password) is a reference
    (``env:VAR`` / ``file:/path``) or ciphertext under a key outside the database, never clear text."""

    __tablename__ = "notification_channels"
    __table_args__ = (CheckConstraint("kind IN ('slack', 'email')", name="kind"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Non-secret settings: e-mail host, port, sender, starttls, username.
    config: Mapped[Any] = mapped_column(JSONType, default=dict)
    secret_ref: Mapped[str | None] = mapped_column(String(500))
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NotificationOutboxItem(Base):
    """One message to send on one channel; written in the transaction that decided it, sent later (retried)."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        # One message per event and channel: a re-run sweep adds nothing.
        UniqueConstraint("tenant_id", "dedupe_key", name="uq_notification_outbox_dedupe"),
        Index("ix_notification_outbox_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    approval_id: Mapped[str | None] = mapped_column(String(36))
    recipients: Mapped[Any] = mapped_column(JSONType, default=list)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
