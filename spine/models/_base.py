"""Shared column helpers for the spine models."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import UTCDateTime, utcnow


def new_id() -> str:
    """A new canonical id (UUID4 string)."""
    return str(uuid.uuid4())


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TenantMixin:
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)


class SchemaVersionMixin:
    # Row-level schema version (seed §9): rows written by older code are upgraded on read.
    schema_version: Mapped[int] = mapped_column("_schema_version", Integer, default=1)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
