"""Shared plumbing of the tenant-scoped repositories."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from spine.db import utcnow
from spine.errors import NotFoundError, TenantIsolationError
from spine.models import EventLog

T = TypeVar("T")

EVENT_SOURCES = {
    "campaign": "mcc.campaigns",
    "strategy": "mcc.strategies",
    "work_item": "mcc.work_items",
    "asset": "mcc.assets",
    "measurement": "mcc.measurements",
    "system_ref": "mcc.sync",
    "run": "mcc.runs",
}


class TenantScoped:
    """A repository bound to one session and one tenant; every query filters by ``tenant_id``."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def _owned(self, model: type[T], entity_id: str, entity: str, field: str | None = None) -> T:
        """Load ``entity_id`` or raise NotFound / TenantIsolationError (it exists in another tenant)."""
        row = self.session.get(model, entity_id) if isinstance(entity_id, str) else None
        if row is None:
            raise NotFoundError(entity, str(entity_id), field)
        if row.tenant_id != self.tenant_id:  # type: ignore[attr-defined]
            raise TenantIsolationError(entity, entity_id, self.tenant_id, field)
        return row

    def _emit(
        self,
        event_type: str,
        aggregate_type: str,
        aggregate_id: str,
        payload: dict[str, Any],
        actor: str | None = None,
        occurred_at: dt.datetime | None = None,
    ) -> EventLog:
        """Append a domain event to the outbox in the caller's transaction."""
        now = occurred_at or utcnow()
        event = EventLog(
            tenant_id=self.tenant_id,
            event_type=event_type,
            source=EVENT_SOURCES.get(aggregate_type, "mcc"),
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload={**payload, "tenant_id": self.tenant_id, "timestamp": now.isoformat()},
            actor=actor,
            occurred_at=now,
        )
        self.session.add(event)
        return event
