"""Event outbox, request records, error log and workflow runs of one tenant."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update

from spine.context import (
    ArtifactTypeRegistry,
    CampaignContext,
    StepArtifact,
    attach_step_result,
    load_from_run,
    new_context,
)
from spine.db import utcnow
from spine.enums import RunStatus
from spine.errors import NotFoundError, ValidationError
from spine.models import Campaign, CampaignRequest, ErrorLog, EventLog, Run
from spine.repositories.base import TenantScoped


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    seq: int
    event_id: str
    tenant_id: str
    event_type: str
    source: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    actor: str | None
    occurred_at: dt.datetime
    published_at: dt.datetime | None


class EventRepository(TenantScoped):
    """Read and drain the outbox."""

    def append(
        self, event_type: str, aggregate_type: str, aggregate_id: str, payload: dict[str, Any], actor: str | None = None
    ) -> EventOut:
        if not event_type or "." not in event_type:
            raise ValidationError("event_type", f"{event_type!r} is not an event type", "use 'entity.verb'")
        row = self._emit(event_type, aggregate_type, aggregate_id, payload, actor)
        self.session.flush()
        return EventOut.model_validate(row)

    def list(
        self,
        *,
        event_type: str | None = None,
        aggregate_id: str | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[EventOut]:
        stmt = select(EventLog).where(EventLog.tenant_id == self.tenant_id, EventLog.seq > after_seq)
        if event_type is not None:
            stmt = stmt.where(EventLog.event_type == event_type)
        if aggregate_id is not None:
            stmt = stmt.where(EventLog.aggregate_id == aggregate_id)
        return [EventOut.model_validate(r) for r in self.session.scalars(stmt.order_by(EventLog.seq).limit(limit))]

    def unpublished(self, limit: int = 100) -> list[EventOut]:
        stmt = (
            select(EventLog)
            .where(EventLog.tenant_id == self.tenant_id, EventLog.published_at.is_(None))
            .order_by(EventLog.seq)
            .limit(limit)
        )
        return [EventOut.model_validate(r) for r in self.session.scalars(stmt)]

    def mark_published(self, seqs: Iterable[int]) -> int:
        result = self.session.execute(
            update(EventLog)
            .where(EventLog.tenant_id == self.tenant_id, EventLog.seq.in_(list(seqs)), EventLog.published_at.is_(None))
            .values(published_at=utcnow())
        )
        return result.rowcount


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    request_id: str
    client_request_key: str | None
    fingerprint: str
    campaign_id: str | None
    status: str
    step: str | None
    created_at: dt.datetime


class RequestRepository(TenantScoped):
    def get(self, request_id: str) -> RequestOut:
        row = self.session.scalar(select(CampaignRequest).where(CampaignRequest.request_id == request_id))
        if row is None or row.tenant_id != self.tenant_id:
            raise NotFoundError("request", request_id, "request_id")
        return RequestOut.model_validate(row)

    def by_client_key(self, client_request_key: str) -> RequestOut | None:
        row = self.session.scalar(
            select(CampaignRequest).where(
                CampaignRequest.tenant_id == self.tenant_id, CampaignRequest.client_request_key == client_request_key
            )
        )
        return RequestOut.model_validate(row) if row is not None else None


class ErrorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    campaign_id: str | None
    request_id: str | None
    step: str
    error_type: str | None
    error_message: str
    error_details: dict[str, Any] | None
    created_at: dt.datetime


class ErrorLogRepository(TenantScoped):
    def log(
        self,
        step: str,
        error_message: str,
        *,
        error_type: str | None = None,
        details: dict[str, Any] | None = None,
        campaign_id: str | None = None,
        request_id: str | None = None,
    ) -> ErrorOut:
        """Record a failure (write it in its own transaction so it survives the failed one)."""
        if not step:
            raise ValidationError("step", "step is required", "name the step that failed")
        if campaign_id is not None:
            self._owned(Campaign, campaign_id, "campaign", "campaign_id")
        row = ErrorLog(
            tenant_id=self.tenant_id,
            step=step,
            error_message=error_message,
            error_type=error_type,
            error_details=details,
            campaign_id=campaign_id,
            request_id=request_id,
        )
        self.session.add(row)
        self.session.flush()
        return ErrorOut.model_validate(row)

    def list(self, *, campaign_id: str | None = None, request_id: str | None = None) -> list[ErrorOut]:
        stmt = select(ErrorLog).where(ErrorLog.tenant_id == self.tenant_id)
        if campaign_id is not None:
            stmt = stmt.where(ErrorLog.campaign_id == campaign_id)
        if request_id is not None:
            stmt = stmt.where(ErrorLog.request_id == request_id)
        return [ErrorOut.model_validate(r) for r in self.session.scalars(stmt.order_by(ErrorLog.created_at))]


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    tenant_id: str
    campaign_id: str
    workflow_name: str
    status: str
    base_run_id: str | None
    context: dict[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RunRepository(TenantScoped):
    """Workflow runs and their CampaignContext."""

    def create(
        self,
        campaign_id: str,
        workflow_name: str,
        *,
        trigger_type: str = "manual",
        initiated_by: str | None = None,
        base_run_id: str | None = None,
    ) -> RunOut:
        """A new run; with ``base_run_id`` its context starts as a copy of that run's (update workflow)."""
        self._owned(Campaign, campaign_id, "campaign", "campaign_id")
        if not workflow_name or len(workflow_name) > 255:
            raise ValidationError("workflow_name", "workflow_name must be 1-255 characters", "name the workflow")
        run_id = str(uuid.uuid4())
        if base_run_id is not None:  # load first: a bad base run writes nothing
            ctx = load_from_run(self.session, self.tenant_id, base_run_id, new_run_id=run_id)
            ctx = ctx.model_copy(update={"workflow_name": workflow_name})
        else:
            ctx = new_context(campaign_id, run_id, workflow_name, trigger_type, initiated_by=initiated_by)
        run = Run(
            id=run_id,
            tenant_id=self.tenant_id,
            campaign_id=campaign_id,
            workflow_name=workflow_name,
            status="pending",
            base_run_id=base_run_id,
            context=ctx.to_json(),
        )
        self.session.add(run)
        self.session.flush()
        self._emit("run.created", "run", run.id, {"run_id": run.id, "campaign_id": campaign_id}, initiated_by)
        self.session.flush()
        return RunOut.model_validate(run)

    def get(self, run_id: str) -> RunOut:
        return RunOut.model_validate(self._owned(Run, run_id, "run"))

    def context(self, run_id: str) -> CampaignContext:
        run = self._owned(Run, run_id, "run")
        return CampaignContext.from_json(run.context or {})

    def save_context(self, run_id: str, context: CampaignContext) -> RunOut:
        run = self._owned(Run, run_id, "run")
        if str(context.run_id) != run.id:
            raise ValidationError("context.runId", "the context belongs to another run", "save it on its own run")
        run.context = context.to_json()
        run.updated_at = utcnow()
        self.session.flush()
        return RunOut.model_validate(run)

    def attach(
        self,
        run_id: str,
        step_id: str,
        artifacts: Iterable[StepArtifact | dict[str, Any]],
        registry: ArtifactTypeRegistry,
    ) -> CampaignContext:
        """Attach a step's artifacts to the run's stored context and persist it."""
        ctx = attach_step_result(self.context(run_id), step_id, artifacts, registry)
        self.save_context(run_id, ctx)
        return ctx

    def set_status(self, run_id: str, status: str) -> RunOut:
        if status not in {s.value for s in RunStatus}:
            raise ValidationError("status", f"{status!r} is not a run status", "use pending/running/completed/failed")
        run = self._owned(Run, run_id, "run")
        run.status = status
        run.updated_at = utcnow()
        self.session.flush()
        return RunOut.model_validate(run)

    def load_from_run(self, base_run_id: str, *, new_run_id: str | None = None) -> CampaignContext:
        return load_from_run(self.session, self.tenant_id, base_run_id, new_run_id=new_run_id)
