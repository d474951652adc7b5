"""Campaigns: idempotent create (+ tracking keys, request record, outbox event), optimistic-locked update."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from spine.db import utcnow
from spine.enums import CampaignStatus, StatusSource
from spine.errors import (
    ConflictError,
    DuplicateRequestError,
    IdempotencyKeyReusedError,
    NotFoundError,
    ValidationError,
)
from spine.models import Campaign, CampaignRequest, CampaignTrackingKeys, Measurement, SystemRef, User
from spine.repositories.base import TenantScoped
from spine.schemas import CampaignCreate, CampaignFields, CampaignOut, CampaignUpdate, Money, parse
from spine.tracking_keys import generate_tracking_keys
from spine.versioning import current_version, upgrade

_LIST_FIELDS = ("stakeholder_ids", "channels", "audiences", "products", "regions", "tags")
_MONEY_FIELDS = ("budget_planned", "budget_committed", "budget_spent")
_REQUIRED = ("name", "type", "tier", "launch_date", "owner_id")


def fingerprint(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a request's arguments."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _money(amount: Decimal | None, currency: str | None) -> Money | None:
    return None if amount is None or currency is None else Money(amount=amount, currency=currency)


def _flatten(values: dict[str, Any]) -> dict[str, Any]:
    """Pydantic field values -> column values (Money split into amount + currency)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in _MONEY_FIELDS:
            out[f"{key}_amount"] = None if value is None else Decimal(str(value["amount"]))
            out[f"{key}_currency"] = None if value is None else value["currency"]
        elif key in _LIST_FIELDS:
            out[key] = [str(v) for v in value] if value is not None else []
        else:
            out[key] = value
    return out


def _check_actor(actor: str) -> None:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 128:
        raise ValidationError("actor", "actor must be a user or system id of 1-128 characters", "pass who acts")


class CampaignRepository(TenantScoped):
    """Campaigns of one tenant."""

    # ---- reads ----------------------------------------------------------------------------------

    def get_model(self, campaign_id: str) -> Campaign:
        """The ORM row (upgraded to the current schema version); NotFound / TenantIsolationError."""
        row = self._owned(Campaign, campaign_id, "campaign")
        self._upgrade(row)
        return row

    def get(self, campaign_id: str) -> CampaignOut:
        """One campaign with its external refs."""
        row = self.get_model(campaign_id)
        return self._out(row, self._refs([row.id]).get(row.id, {}))

    def list(
        self,
        *,
        status: str | None = None,
        type: str | None = None,
        tier: int | None = None,
        owner_id: str | None = None,
        name_contains: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[CampaignOut]:
        """Campaigns of this tenant, newest launch first, optionally filtered (name_contains: case-insensitive)."""
        stmt = select(Campaign).where(Campaign.tenant_id == self.tenant_id)
        if status is not None:
            stmt = stmt.where(Campaign.status == status)
        if type is not None:
            stmt = stmt.where(Campaign.type == type)
        if tier is not None:
            stmt = stmt.where(Campaign.tier == tier)
        if owner_id is not None:
            stmt = stmt.where(Campaign.owner_id == owner_id)
        if name_contains:
            # autoescape: a '%' or '_' typed by a user is a literal character, not a wildcard.
            stmt = stmt.where(func.lower(Campaign.name).contains(name_contains.lower(), autoescape=True))
        stmt = stmt.order_by(Campaign.launch_date.desc(), Campaign.id).limit(limit).offset(offset)
        rows = list(self.session.scalars(stmt))
        for row in rows:
            self._upgrade(row)
        refs = self._refs([r.id for r in rows])
        return [self._out(r, refs.get(r.id, {})) for r in rows]

    def count(self) -> int:
        return (
            self.session.scalar(select(func.count()).select_from(Campaign).where(Campaign.tenant_id == self.tenant_id))
            or 0
        )

    def find_by_name(self, name: str) -> list[CampaignOut]:
        """Campaigns whose name contains ``name`` (case-insensitive)."""
        stmt = select(Campaign.id).where(
            Campaign.tenant_id == self.tenant_id, func.lower(Campaign.name).contains(name.lower())
        )
        return [self.get(cid) for cid in self.session.scalars(stmt)]

    # ---- writes ---------------------------------------------------------------------------------

    def create(
        self,
        data: CampaignCreate | dict[str, Any],
        *,
        actor: str,
        client_request_key: str | None = None,
        request_id: str | None = None,
    ) -> CampaignOut:
        """Create a campaign with tracking keys, a request record and a ``campaign.created`` event.

        The same ``client_request_key`` with the same arguments returns the first campaign; with
        different arguments it raises IdempotencyKeyReusedError. A used ``request_id`` raises
        DuplicateRequestError. Nothing is written when any check fails.
        """
        spec = parse(CampaignCreate, data)
        args = spec.model_dump(mode="json")
        fp = fingerprint(args)
        if request_id is not None:
            if not request_id or len(request_id) > 255:
                raise ValidationError("request_id", "request_id must be 1-255 characters", "send a UUID")
            if self.session.scalar(select(CampaignRequest.id).where(CampaignRequest.request_id == request_id)):
                raise DuplicateRequestError("request_id", request_id)
        if client_request_key is not None:
            if not client_request_key or len(client_request_key) > 255:
                raise ValidationError(
                    "client_request_key", "client_request_key must be 1-255 characters", "send a short key"
                )
            prior = self.session.scalar(
                select(CampaignRequest).where(
                    CampaignRequest.tenant_id == self.tenant_id,
                    CampaignRequest.client_request_key == client_request_key,
                )
            )
            if prior is not None:
                if prior.fingerprint != fp or prior.campaign_id is None:
                    raise IdempotencyKeyReusedError(client_request_key)
                return self.get(prior.campaign_id)
        self._check_user("owner_id", spec.owner_id)
        self._check_people("stakeholder_ids", spec.stakeholder_ids)
        _check_actor(actor)

        now = utcnow()
        values = _flatten(spec.model_dump(mode="python"))
        campaign = Campaign(
            id=str(uuid.uuid4()),
            tenant_id=self.tenant_id,
            **values,
            status_updated_at=now,
            status_source=StatusSource.MCC.value,
            created_at=now,
            updated_at=now,
            created_by=actor,
            updated_by=actor,
            version=1,
            schema_version=current_version("campaign"),
        )
        keys = generate_tracking_keys(campaign.id, spec.name, spec.launch_date)
        self.session.add(campaign)
        self.session.flush()
        self.session.add(
            CampaignTrackingKeys(
                campaign_id=campaign.id,
                tenant_id=self.tenant_id,
                adobe_analytics=keys.adobe_analytics,
                google_analytics=keys.google_analytics,
                internal_metrics=keys.internal_metrics,
                utm_template=keys.utm_template,
                created_at=now,
            )
        )
        self.session.add(
            CampaignRequest(
                tenant_id=self.tenant_id,
                request_id=request_id or str(uuid.uuid4()),
                client_request_key=client_request_key,
                fingerprint=fp,
                campaign_id=campaign.id,
                status="completed",
                step="created",
            )
        )
        self._emit(
            "campaign.created",
            "campaign",
            campaign.id,
            {
                "campaign_id": campaign.id,
                "name": spec.name,
                "type": spec.type.value,
                "tier": spec.tier,
                "created_by": actor,
            },
            actor,
            now,
        )
        try:
            self.session.flush()
        except IntegrityError as exc:  # a concurrent request with the same key won the race
            field = "client_request_key" if client_request_key else "request_id"
            raise DuplicateRequestError(field, client_request_key or request_id or "") from exc
        return self._out(campaign, {})

    def update(
        self, campaign_id: str, changes: CampaignUpdate | dict[str, Any], *, expected_version: int, actor: str
    ) -> CampaignOut:
        """Update MCC-owned fields if the row is still at ``expected_version``; else ConflictError."""
        upd = parse(CampaignUpdate, changes)
        fields = upd.model_dump(mode="python", exclude_unset=True)
        if not fields:  # else a no-op would still bump the version and log an update
            raise ValidationError("changes", "no fields to change", "send at least one MCC-owned field to change")
        for key in _REQUIRED:
            if key in fields and fields[key] is None:
                raise ValidationError(key, f"{key} cannot be null", f"send a value for {key} or omit it")
        if not isinstance(expected_version, int) or isinstance(expected_version, bool):
            raise ValidationError("expected_version", "expected_version must be an integer", "send the version")
        _check_actor(actor)
        row = self.get_model(campaign_id)
        current = self._out(row, {})
        merged = {k: v for k, v in current.model_dump(mode="python").items() if k in CampaignFields.model_fields}
        merged.update(fields)
        parse(CampaignFields, merged)  # cross-field rules (end_date >= launch_date) on the result
        if "owner_id" in fields:
            self._check_user("owner_id", fields["owner_id"])
        if fields.get("stakeholder_ids"):
            self._check_people("stakeholder_ids", fields["stakeholder_ids"])
        previous = {k: current.model_dump(mode="json")[k] for k in fields}
        values = _flatten(fields)
        now = utcnow()
        result = self.session.execute(
            update(Campaign)
            .where(
                Campaign.id == campaign_id,
                Campaign.tenant_id == self.tenant_id,
                Campaign.version == expected_version,
            )
            .values(**values, version=Campaign.version + 1, updated_at=now, updated_by=actor)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            self.session.expire(row)
            actual = self.session.scalar(select(Campaign.version).where(Campaign.id == campaign_id))
            raise ConflictError("campaign", campaign_id, expected_version, actual)
        self.session.refresh(row)
        out = self.get(campaign_id)
        new_values = out.model_dump(mode="json")
        self._emit(
            "campaign.updated",
            "campaign",
            campaign_id,
            {
                "campaign_id": campaign_id,
                "source_system": "mcc",
                "changed_fields": sorted(fields),
                "previous_values": previous,
                "new_values": {k: new_values[k] for k in fields},
                "version": out.version,
            },
            actor,
            now,
        )
        self.session.flush()
        return out

    def set_status(
        self,
        campaign_id: str,
        status: str,
        *,
        source: str = "mcc",
        actor: str,
        expected_version: int | None = None,
    ) -> CampaignOut:
        """Record a status change (execution-system owned); bumps the version."""
        if status not in {s.value for s in CampaignStatus}:
            raise ValidationError(
                "status", f"{status!r} is not a campaign status", f"use one of {[s.value for s in CampaignStatus]}"
            )
        if source not in {s.value for s in StatusSource}:
            raise ValidationError("source", f"{source!r} is not a status source", "use workfront, asana or mcc")
        row = self.get_model(campaign_id)
        version = row.version if expected_version is None else expected_version
        previous = row.status
        now = utcnow()
        result = self.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.tenant_id == self.tenant_id, Campaign.version == version)
            .values(
                status=status,
                status_source=source,
                status_updated_at=now,
                version=Campaign.version + 1,
                updated_at=now,
                updated_by=actor,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            self.session.expire(row)
            actual = self.session.scalar(select(Campaign.version).where(Campaign.id == campaign_id))
            raise ConflictError("campaign", campaign_id, version, actual)
        self.session.refresh(row)
        self._emit(
            "campaign.status_changed",
            "campaign",
            campaign_id,
            {"campaign_id": campaign_id, "previous": previous, "status": status, "status_source": source},
            actor,
            now,
        )
        self.session.flush()
        return self.get(campaign_id)

    def refresh_budget_spent(self, campaign_id: str) -> CampaignOut:
        """Set ``budget_spent`` to the SQL sum of measured spend (analytics-owned: no version bump)."""
        row = self.get_model(campaign_id)
        spend, currency = self.session.execute(
            select(func.sum(Measurement.spend), func.min(Measurement.currency)).where(
                Measurement.tenant_id == self.tenant_id, Measurement.campaign_id == campaign_id
            )
        ).one()
        row.budget_spent_amount = None if spend is None else Decimal(str(spend)).quantize(Decimal("0.01"))
        row.budget_spent_currency = currency if spend is not None else None
        self.session.flush()
        return self.get(campaign_id)

    # ---- helpers --------------------------------------------------------------------------------

    def _check_user(self, field: str, user_id: str) -> None:
        if not isinstance(user_id, str) or self.session.get(User, (self.tenant_id, user_id)) is None:
            raise ValidationError(
                field, f"{user_id!r} is not a user of tenant {self.tenant_id!r}", "use a user id of this tenant"
            )

    def _check_people(self, field: str, user_ids: list[str]) -> None:
        """Every id must be a user of this tenant; another tenant's user is answered exactly like an unknown id."""
        from spine.repositories.directory import DirectoryRepository

        unknown = DirectoryRepository(self.session, self.tenant_id).unknown_users(user_ids)
        if unknown:
            self._check_user(f"{field}.{list(user_ids).index(unknown[0])}", unknown[0])

    def _upgrade(self, row: Campaign) -> None:
        # Upgrade-on-read: apply transformers to an N-1 row; the caller's transaction persists it.
        if row.schema_version >= current_version("campaign"):
            return
        data = {c: getattr(row, c) for c in (*_LIST_FIELDS, "tier", "schema_version")}
        for key, value in upgrade("campaign", data).items():
            setattr(row, key, value)

    def _refs(self, ids: list[str]) -> dict[str, dict[str, str]]:
        if not ids:
            return {}
        stmt = select(SystemRef.canonical_id, SystemRef.system, SystemRef.external_id).where(
            SystemRef.tenant_id == self.tenant_id,
            SystemRef.entity_type == "campaign",
            SystemRef.canonical_id.in_(ids),
        )
        out: dict[str, dict[str, str]] = {}
        for cid, system, ext in self.session.execute(stmt):
            out.setdefault(cid, {})[system] = ext
        return out

    def _out(self, row: Campaign, refs: dict[str, str]) -> CampaignOut:
        if row is None:  # pragma: no cover - defensive
            raise NotFoundError("campaign", "?")
        return CampaignOut(
            id=row.id,
            tenant_id=row.tenant_id,
            name=row.name,
            description=row.description,
            type=row.type,
            tier=row.tier,
            status=row.status,
            status_updated_at=row.status_updated_at,
            status_source=row.status_source,
            launch_date=row.launch_date,
            end_date=row.end_date,
            owner_id=row.owner_id,
            team_id=row.team_id,
            stakeholder_ids=row.stakeholder_ids or [],
            budget_planned=_money(row.budget_planned_amount, row.budget_planned_currency),
            budget_committed=_money(row.budget_committed_amount, row.budget_committed_currency),
            budget_spent=_money(row.budget_spent_amount, row.budget_spent_currency),
            channels=row.channels or [],
            audiences=row.audiences or [],
            products=row.products or [],
            regions=row.regions or [],
            tags=row.tags or [],
            external_refs=refs,
            created_at=row.created_at,
            created_by=row.created_by,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
            version=row.version,
            schema_version=row.schema_version,
        )
