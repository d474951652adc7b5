"""Backfill proposals: an existing Workfront/Asana project and the spine campaign it should be linked to (or that
should be created for it), waiting for a person to accept or reject it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, JSONType, UTCDateTime, utcnow


class ImportProposal(Base):
    __tablename__ = "import_proposals"
    __table_args__ = (
        UniqueConstraint("tenant_id", "system", "external_id"),
        Index("ix_import_proposals_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    system: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_end: Mapped[dt.date | None] = mapped_column(Date)
    owner_external_id: Mapped[str | None] = mapped_column(String(64))
    match_kind: Mapped[str] = mapped_column(String(16))  # extref | fuzzy | none
    campaign_id: Mapped[str | None] = mapped_column(String(36))
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed | accepted | rejected
    tasks: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    flags: Mapped[list[str]] = mapped_column(JSONType)
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
