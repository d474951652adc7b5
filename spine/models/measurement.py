"""Measurements: append-only daily performance rows from analytics (seed §4.4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, UTCDateTime, utcnow
from spine.models._base import IdMixin, SchemaVersionMixin

Money = Numeric(18, 4)


class Measurement(IdMixin, SchemaVersionMixin, Base):
    """One (campaign, date, channel, segment) row; money fields share the row's ``currency``."""

    __tablename__ = "measurements"
    __table_args__ = (
        Index("ix_measurements_tenant_campaign_date", "tenant_id", "campaign_id", "date"),
        Index("ix_measurements_tenant_date", "tenant_id", "date"),
    )

    # No single-column tenant index: the composite indexes below lead with tenant_id (faster bulk insert).
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(32))
    segment: Mapped[str | None] = mapped_column(String(128))
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    unique_visitors: Mapped[int | None] = mapped_column(BigInteger)
    sessions: Mapped[int | None] = mapped_column(BigInteger)
    page_views: Mapped[int | None] = mapped_column(BigInteger)
    time_on_site_seconds: Mapped[float | None] = mapped_column(Float)
    bounce_rate: Mapped[float | None] = mapped_column(Float)
    conversions: Mapped[int] = mapped_column(BigInteger, default=0)
    leads: Mapped[int | None] = mapped_column(Integer)
    mqls: Mapped[int | None] = mapped_column(Integer)
    sqls: Mapped[int | None] = mapped_column(Integer)
    opportunities: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    spend: Mapped[Decimal | None] = mapped_column(Money)
    conversion_value: Mapped[Decimal | None] = mapped_column(Money)
    pipeline_generated: Mapped[Decimal | None] = mapped_column(Money)
    revenue_attributed: Mapped[Decimal | None] = mapped_column(Money)
    source_system: Mapped[str] = mapped_column(String(32))
    source_campaign_key: Mapped[str] = mapped_column(String(200))
    data_freshness: Mapped[str] = mapped_column(String(16), default="daily")
    collected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
