"""Tenant-scoped repositories. Build them with ``SpineStore(session, tenant_id)`` or ``open_store``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from spine.db import transaction
from spine.repositories.campaigns import CampaignRepository
from spine.repositories.directory import DirectoryRepository, create_tenant, get_tenant, list_tenants
from spine.repositories.mapping import (
    SyncStateRepository,
    SystemRefOut,
    SystemRefRepository,
    TrackingKeyRepository,
    resolve_external_id,
)
from spine.repositories.ops import ErrorLogRepository, EventRepository, RequestRepository, RunRepository
from spine.repositories.strategies import StrategyRepository
from spine.repositories.work import AssetRepository, MeasurementRepository, WorkItemRepository

if TYPE_CHECKING:
    from spine.performance import PerformanceSummary


class SpineStore:
    """Every repository of one tenant over one session; an unknown tenant raises UnknownTenantError."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        get_tenant(session, tenant_id)
        self.session = session
        self.tenant_id = tenant_id
        self.directory = DirectoryRepository(session, tenant_id)
        self.campaigns = CampaignRepository(session, tenant_id)
        self.strategies = StrategyRepository(session, tenant_id)
        self.work_items = WorkItemRepository(session, tenant_id)
        self.assets = AssetRepository(session, tenant_id)
        self.measurements = MeasurementRepository(session, tenant_id)
        self.refs = SystemRefRepository(session, tenant_id)
        self.tracking = TrackingKeyRepository(session, tenant_id)
        self.sync = SyncStateRepository(session, tenant_id)
        self.events = EventRepository(session, tenant_id)
        self.requests = RequestRepository(session, tenant_id)
        self.errors = ErrorLogRepository(session, tenant_id)
        self.runs = RunRepository(session, tenant_id)

    def performance(
        self, start: dt.date | None = None, end: dt.date | None = None, *, campaign_ids: Collection[str] | None = None
    ) -> PerformanceSummary:
        """``spine.performance.performance_summary`` for this tenant (or ``campaign_ids``) over [start, end]."""
        from spine.performance import performance_summary  # late: spine.performance imports this package

        return performance_summary(self.session, self.tenant_id, start, end, campaign_ids=campaign_ids)


Repositories = SpineStore


@contextmanager
def open_store(factory: sessionmaker[Session], tenant_id: str) -> Iterator[SpineStore]:
    """One transaction with a store for ``tenant_id``: commit on success, roll back on any error."""
    with transaction(factory) as session:
        yield SpineStore(session, tenant_id)


__all__ = [
    "AssetRepository",
    "CampaignRepository",
    "DirectoryRepository",
    "ErrorLogRepository",
    "EventRepository",
    "MeasurementRepository",
    "Repositories",
    "RequestRepository",
    "RunRepository",
    "SpineStore",
    "StrategyRepository",
    "SyncStateRepository",
    "SystemRefOut",
    "SystemRefRepository",
    "TrackingKeyRepository",
    "WorkItemRepository",
    "create_tenant",
    "get_tenant",
    "list_tenants",
    "open_store",
    "resolve_external_id",
]
