"""Strategies: versioned, immutable once submitted; draft -> pending_review -> approved | rejected."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from spine.db import utcnow
from spine.enums import StrategyStatus
from spine.errors import (
    FourEyesError,
    IdempotencyKeyReusedError,
    ImmutableEntityError,
    InvalidTransitionError,
    ValidationError,
)
from spine.fingerprint import canonical_json, sha256_hex
from spine.models import Campaign, EventLog, Strategy
from spine.repositories.base import TenantScoped
from spine.schemas import StrategyContent, StrategyCreate, StrategyOut, parse
from spine.versioning import current_version, upgrade

TRANSITIONS: dict[str, frozenset[str]] = {
    StrategyStatus.DRAFT: frozenset({StrategyStatus.PENDING_REVIEW}),
    StrategyStatus.PENDING_REVIEW: frozenset({StrategyStatus.APPROVED, StrategyStatus.REJECTED}),
    StrategyStatus.APPROVED: frozenset({StrategyStatus.SUPERSEDED}),
    StrategyStatus.REJECTED: frozenset(),
    StrategyStatus.SUPERSEDED: frozenset(),
}


# A draft request's record is an event whose event_id (unique) derives from (tenant, key): a concurrent second
# create with the same key fails on that constraint instead of making a second draft.
_REQUEST_NS = uuid.UUID("6a3e1f0c-52b7-4c8e-9d21-7f4b0c9e3a55")
REQUEST_EVENT = "strategy.requested"


class StrategyRepository(TenantScoped):
    """Strategies of one tenant."""

    def get_model(self, strategy_id: str) -> Strategy:
        row = self._owned(Strategy, strategy_id, "strategy")
        if row.schema_version < current_version("strategy"):
            data = upgrade("strategy", {"content": row.content, "title": row.title, "schema_version": 1})
            row.content = data["content"]
            row.schema_version = data["schema_version"]
        return row

    def get(self, strategy_id: str) -> StrategyOut:
        return StrategyOut.model_validate(self.get_model(strategy_id))

    def list(self, campaign_id: str | None = None, status: str | None = None) -> list[StrategyOut]:
        stmt = select(Strategy.id).where(Strategy.tenant_id == self.tenant_id)
        if campaign_id is not None:
            stmt = stmt.where(Strategy.campaign_id == campaign_id)
        if status is not None:
            stmt = stmt.where(Strategy.status == status)
        stmt = stmt.order_by(Strategy.created_at, Strategy.version)
        return [self.get(sid) for sid in self.session.scalars(stmt)]

    def history(self, strategy_id: str) -> list[StrategyOut]:
        """This version and all earlier ones, newest first."""
        out = []
        current: str | None = strategy_id
        while current is not None:
            row = self.get_model(current)
            out.append(StrategyOut.model_validate(row))
            current = row.previous_version_id
        return out

    def create(
        self, data: StrategyCreate | dict[str, Any], *, actor: str, client_request_key: str | None = None
    ) -> StrategyOut:
        """A new draft (version 1) with a ``strategy.created`` event.

        The same ``client_request_key`` with the same arguments returns the first draft; with different arguments
        it raises IdempotencyKeyReusedError. Nothing is written when a check fails.
        """
        spec = parse(StrategyCreate, data)
        request_event_id: str | None = None
        if client_request_key is not None:
            if not client_request_key or len(client_request_key) > 255:
                raise ValidationError("client_request_key", "must be 1-255 characters", "send a short key")
            fp = sha256_hex(canonical_json(spec.model_dump(mode="json"), "strategy"))
            request_event_id = str(uuid.uuid5(_REQUEST_NS, f"{self.tenant_id}\n{client_request_key}"))
            prior = self.session.scalar(
                select(EventLog.payload).where(
                    EventLog.event_id == request_event_id, EventLog.tenant_id == self.tenant_id
                )
            )
            if prior is not None:
                if prior.get("fingerprint") != fp:
                    raise IdempotencyKeyReusedError(client_request_key)
                return self.get(prior["strategy_id"])
        self._owned(Campaign, spec.campaign_id, "campaign", "campaign_id")
        now = utcnow()
        row = Strategy(
            tenant_id=self.tenant_id,
            campaign_id=spec.campaign_id,
            type=spec.type.value,
            title=spec.title,
            content=spec.content.model_dump(mode="json"),
            status=StrategyStatus.DRAFT.value,
            version=1,
            generated_by=spec.generated_by.value,
            agent_session_id=spec.agent_session_id,
            prompt_used=spec.prompt_used,
            created_by=actor,
            created_at=now,
            updated_at=now,
            schema_version=current_version("strategy"),
        )
        self.session.add(row)
        self.session.flush()
        self._emit(
            "strategy.created",
            "strategy",
            row.id,
            {"strategy_id": row.id, "campaign_id": row.campaign_id, "type": row.type, "version": 1},
            actor,
        )
        if request_event_id is not None:
            request = self._emit(REQUEST_EVENT, "strategy", row.id, {"strategy_id": row.id, "fingerprint": fp}, actor)
            request.event_id = request_event_id
        self.session.flush()
        return StrategyOut.model_validate(row)

    def edit(
        self,
        strategy_id: str,
        *,
        actor: str,
        title: str | None = None,
        content: StrategyContent | dict[str, Any] | None = None,
    ) -> StrategyOut:
        """Edit a draft in place; editing any other status creates the next version (a new draft)."""
        row = self.get_model(strategy_id)
        new_content = parse(StrategyContent, content).model_dump(mode="json") if content is not None else None
        if title is not None and not 3 <= len(title.strip()) <= 200:
            raise ValidationError("title", "title must be 3-200 characters", "shorten or lengthen it")
        if row.status == StrategyStatus.DRAFT:
            if title is not None:
                row.title = title.strip()
            if new_content is not None:
                row.content = new_content
            row.updated_at = utcnow()
            self._emit("strategy.updated", "strategy", row.id, {"strategy_id": row.id}, actor)
            self.session.flush()
            return StrategyOut.model_validate(row)
        newer = self.session.scalar(select(Strategy.id).where(Strategy.previous_version_id == row.id))
        if newer is not None:
            raise ImmutableEntityError(
                "strategy_id", f"strategy {row.id!r} already has a newer version {newer!r}", "edit the latest version"
            )
        now = utcnow()
        nxt = Strategy(
            tenant_id=self.tenant_id,
            campaign_id=row.campaign_id,
            type=row.type,
            title=title.strip() if title is not None else row.title,
            content=new_content if new_content is not None else row.content,
            status=StrategyStatus.DRAFT.value,
            version=row.version + 1,
            previous_version_id=row.id,
            generated_by=row.generated_by,
            agent_session_id=row.agent_session_id,
            prompt_used=row.prompt_used,
            created_by=actor,
            created_at=now,
            updated_at=now,
            schema_version=current_version("strategy"),
        )
        self.session.add(nxt)
        self.session.flush()
        self._emit(
            "strategy.created",
            "strategy",
            nxt.id,
            {
                "strategy_id": nxt.id,
                "campaign_id": nxt.campaign_id,
                "version": nxt.version,
                "previous_version_id": row.id,
            },
            actor,
        )
        self.session.flush()
        return StrategyOut.model_validate(nxt)

    def submit(self, strategy_id: str, *, actor: str) -> StrategyOut:
        row = self._move(strategy_id, StrategyStatus.PENDING_REVIEW)
        row.submitted_at, row.submitted_by = utcnow(), actor
        return self._done(row, "strategy.submitted", actor)

    def approve(self, strategy_id: str, *, actor: str) -> StrategyOut:
        """Approve; any earlier approved version of the same lineage becomes ``superseded``.

        Four eyes: whoever drafted, edited or submitted this version cannot approve it, whatever their groups
        (``FourEyesError``).
        """
        current = self.get_model(strategy_id)
        if StrategyStatus.APPROVED in TRANSITIONS[StrategyStatus(current.status)]:  # a bad move says so first
            self._check_four_eyes(current, actor)
        row = self._move(strategy_id, StrategyStatus.APPROVED)
        row.approved_at, row.approved_by = utcnow(), actor
        prev = row.previous_version_id
        while prev is not None:
            older = self.get_model(prev)
            if older.status == StrategyStatus.APPROVED:
                older.status = StrategyStatus.SUPERSEDED.value
                older.updated_at = utcnow()
            prev = older.previous_version_id
        return self._done(row, "strategy.approved", actor)

    def reject(self, strategy_id: str, *, actor: str, reason: str) -> StrategyOut:
        if not reason or not reason.strip():
            raise ValidationError("rejection_reason", "a rejection needs a reason", "say what to change")
        row = self._move(strategy_id, StrategyStatus.REJECTED)
        row.rejection_reason = reason.strip()
        return self._done(row, "strategy.rejected", actor)

    def _check_four_eyes(self, row: Strategy, actor: str) -> None:
        editors = self.session.scalars(
            select(EventLog.actor).where(
                EventLog.tenant_id == self.tenant_id,
                EventLog.aggregate_id == row.id,
                EventLog.event_type == "strategy.updated",
            )
        ).all()
        authors = {a.strip().casefold() for a in (row.created_by, row.submitted_by, *editors) if a}
        if actor.strip().casefold() in authors:
            raise FourEyesError(
                "approved_by",
                f"{actor} drafted, edited or submitted strategy {row.id!r} and cannot approve it",
                "ask another member of marketing-leadership (or a vp) to approve it",
            )

    def _move(self, strategy_id: str, target: StrategyStatus) -> Strategy:
        row = self.get_model(strategy_id)
        allowed = TRANSITIONS[StrategyStatus(row.status)]
        if target not in allowed:
            raise InvalidTransitionError("strategy", row.status, target.value, sorted(a.value for a in allowed))
        row.status = target.value
        row.updated_at = utcnow()
        return row

    def _done(self, row: Strategy, event: str, actor: str) -> StrategyOut:
        self._emit(event, "strategy", row.id, {"strategy_id": row.id, "status": row.status}, actor)
        self.session.flush()
        return StrategyOut.model_validate(row)
