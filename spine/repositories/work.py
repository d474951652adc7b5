"""Work items (with parents), assets, and append-only measurements."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import pydantic
from sqlalchemy import func, insert, select

from spine.db import utcnow
from spine.errors import ConflictError, TenantIsolationError, ValidationError
from spine.models import Asset, Campaign, Measurement, SystemRef, WorkItem
from spine.repositories.base import TenantScoped
from spine.schemas import (
    MEASUREMENT_DEFAULTS,
    AssetCreate,
    AssetOut,
    MeasurementIn,
    MeasurementOut,
    MeasurementRow,
    WorkItemCreate,
    WorkItemOut,
    WorkItemUpdate,
    parse,
    to_spine_error,
)
from spine.versioning import current_version, upgrade


class WorkItemRepository(TenantScoped):
    """Tasks, milestones... of one tenant; items in Workfront/Asana get a SystemRef too."""

    def get_model(self, item_id: str) -> WorkItem:
        row = self._owned(WorkItem, item_id, "work_item")
        if row.schema_version < current_version("work_item"):
            data = upgrade("work_item", {"percent_complete": row.percent_complete, "schema_version": 1})
            row.percent_complete, row.schema_version = data["percent_complete"], data["schema_version"]
        return row

    def get(self, item_id: str) -> WorkItemOut:
        return WorkItemOut.model_validate(self.get_model(item_id))

    def list(
        self,
        campaign_id: str | None = None,
        *,
        source_system: str | None = None,
        status: str | None = None,
        parent_item_id: str | None = None,
    ) -> list[WorkItemOut]:
        stmt = select(WorkItem).where(WorkItem.tenant_id == self.tenant_id)
        if campaign_id is not None:
            stmt = stmt.where(WorkItem.campaign_id == campaign_id)
        if source_system is not None:
            stmt = stmt.where(WorkItem.source_system == source_system)
        if status is not None:
            stmt = stmt.where(WorkItem.status == status)
        if parent_item_id is not None:
            stmt = stmt.where(WorkItem.parent_item_id == parent_item_id)
        stmt = stmt.order_by(WorkItem.created_at, WorkItem.id)
        return [self.get(row.id) for row in self.session.scalars(stmt)]

    def create(self, data: WorkItemCreate | dict[str, Any], *, actor: str) -> WorkItemOut:
        """Create a work item (+ SystemRef when it lives in Workfront/Asana) and a ``work_item.created`` event."""
        spec = parse(WorkItemCreate, data)
        self._owned(Campaign, spec.campaign_id, "campaign", "campaign_id")
        if spec.parent_item_id is not None:
            parent = self._owned(WorkItem, spec.parent_item_id, "work_item", "parent_item_id")
            if parent.campaign_id != spec.campaign_id:
                raise ValidationError(
                    "parent_item_id", "the parent item belongs to another campaign", "pick a parent in this campaign"
                )
        if spec.external_id is not None and spec.source_system.value in ("workfront", "asana"):
            clash = self.session.scalar(
                select(SystemRef.id).where(
                    SystemRef.system == spec.source_system.value,
                    SystemRef.entity_type == "work_item",
                    SystemRef.external_id == spec.external_id,
                )
            )
            if clash is not None:
                raise ValidationError(
                    "external_id", f"{spec.external_id!r} is already linked to a work item", "use a new id"
                )
        now = utcnow()
        fields = spec.model_dump(mode="python")
        row = WorkItem(
            id=str(uuid.uuid4()),
            tenant_id=self.tenant_id,
            **{k: (v.value if hasattr(v, "value") else v) for k, v in fields.items()},
            status_updated_at=now,
            last_synced_at=now if spec.source_system.value != "mcc" else None,
            created_at=now,
            updated_at=now,
            version=1,
            schema_version=current_version("work_item"),
        )
        self.session.add(row)
        self.session.flush()
        if spec.external_id is not None and spec.source_system.value in ("workfront", "asana"):
            self.session.add(
                SystemRef(
                    tenant_id=self.tenant_id,
                    entity_type="work_item",
                    canonical_id=row.id,
                    system=spec.source_system.value,
                    external_id=spec.external_id,
                    external_url=spec.external_url,
                    last_synced_at=now,
                )
            )
        self._emit(
            "work_item.created",
            "work_item",
            row.id,
            {"item_id": row.id, "campaign_id": row.campaign_id, "source_system": row.source_system},
            actor,
            now,
        )
        self.session.flush()
        return WorkItemOut.model_validate(row)

    def create_many(self, campaign_id: str, specs: Sequence[dict[str, Any]], *, actor: str) -> int:
        """Create top-level work items of one campaign in bulk (a backfill of external tasks): the same validation,
        SystemRefs and ``work_item.created`` events as ``create``, with one clash query and one flush for all."""
        self._owned(Campaign, campaign_id, "campaign", "campaign_id")
        parsed = [parse(WorkItemCreate, {**spec, "campaign_id": campaign_id}) for spec in specs]
        if any(p.parent_item_id is not None for p in parsed):
            raise ValidationError("parent_item_id", "bulk creation makes top-level items only", "use create()")
        external = [(p.source_system.value, p.external_id) for p in parsed if p.external_id is not None]
        if len(set(external)) != len(external):
            raise ValidationError("external_id", "the same external id appears twice", "send each task once")
        for system in {s for s, _ in external if s in ("workfront", "asana")}:
            ids = [e for s, e in external if s == system]
            taken = (SystemRef.system == system, SystemRef.entity_type == "work_item", SystemRef.external_id.in_(ids))
            clash = self.session.scalar(select(SystemRef.external_id).where(*taken))
            if clash is not None:
                raise ValidationError("external_id", f"{clash!r} is already linked to a work item", "use a new id")
        now = utcnow()
        version = current_version("work_item")
        for spec in parsed:
            fields = spec.model_dump(mode="python")
            row = WorkItem(
                id=str(uuid.uuid4()), tenant_id=self.tenant_id,
                **{k: (v.value if hasattr(v, "value") else v) for k, v in fields.items()},
                status_updated_at=now, last_synced_at=now if spec.source_system.value != "mcc" else None,
                created_at=now, updated_at=now, version=1, schema_version=version,
            )  # fmt: skip
            self.session.add(row)
            if spec.external_id is not None and spec.source_system.value in ("workfront", "asana"):
                self.session.add(SystemRef(
                    tenant_id=self.tenant_id, entity_type="work_item", canonical_id=row.id,
                    system=spec.source_system.value, external_id=spec.external_id, external_url=spec.external_url,
                    last_synced_at=now,
                ))  # fmt: skip
            self._emit("work_item.created", "work_item", row.id,
                       {"item_id": row.id, "campaign_id": campaign_id, "source_system": row.source_system}, actor,
                       now)  # fmt: skip
        self.session.flush()
        return len(parsed)

    def update(
        self,
        item_id: str,
        changes: WorkItemUpdate | dict[str, Any],
        *,
        actor: str,
        source_system: str = "mcc",
        expected_version: int | None = None,
    ) -> WorkItemOut:
        """Apply changes and emit ``work_item.updated`` with changed fields and previous/new values."""
        upd = parse(WorkItemUpdate, changes)
        fields = {k: (v.value if hasattr(v, "value") else v) for k, v in upd.model_dump(exclude_unset=True).items()}
        row = self.get_model(item_id)
        if expected_version is not None and row.version != expected_version:
            raise ConflictError("work_item", item_id, expected_version, row.version)
        merged = WorkItemOut.model_validate(row).model_dump(mode="python")
        merged.update(fields)
        for start, end in (("planned_start_date", "planned_end_date"), ("actual_start_date", "actual_end_date")):
            if merged[start] and merged[end] and merged[end] < merged[start]:
                raise ValidationError(end, f"{end} must not be before {start}", f"move {end} later")
        changed = {k: v for k, v in fields.items() if getattr(row, k) != v}
        if not changed:
            return WorkItemOut.model_validate(row)
        previous = {k: _jsonable(getattr(row, k)) for k in changed}
        now = utcnow()
        for key, value in changed.items():
            setattr(row, key, value)
        if "status" in changed:
            row.status_updated_at = now
        row.version += 1
        row.updated_at = now
        self._emit(
            "work_item.updated",
            "work_item",
            row.id,
            {
                "item_id": row.id,
                "campaign_id": row.campaign_id,
                "source_system": source_system,
                "changed_fields": sorted(changed),
                "previous_values": previous,
                "new_values": {k: _jsonable(v) for k, v in changed.items()},
            },
            actor,
            now,
        )
        self.session.flush()
        return WorkItemOut.model_validate(row)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


class AssetRepository(TenantScoped):
    def create(self, data: AssetCreate | dict[str, Any], *, actor: str) -> AssetOut:
        spec = parse(AssetCreate, data)
        self._owned(Campaign, spec.campaign_id, "campaign", "campaign_id")
        values = spec.model_dump(mode="python")
        values["metadata_"] = values.pop("metadata")
        values = {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}
        row = Asset(tenant_id=self.tenant_id, schema_version=current_version("asset"), **values)
        self.session.add(row)
        self.session.flush()
        self._emit("asset.created", "asset", row.id, {"asset_id": row.id, "campaign_id": row.campaign_id}, actor)
        self.session.flush()
        return AssetOut.model_validate(row)

    def get(self, asset_id: str) -> AssetOut:
        return AssetOut.model_validate(self._owned(Asset, asset_id, "asset"))

    def list(self, campaign_id: str | None = None) -> list[AssetOut]:
        stmt = select(Asset).where(Asset.tenant_id == self.tenant_id)
        if campaign_id is not None:
            stmt = stmt.where(Asset.campaign_id == campaign_id)
        return [AssetOut.model_validate(r) for r in self.session.scalars(stmt.order_by(Asset.created_at))]


_MEASUREMENTS = pydantic.TypeAdapter(list[MeasurementRow])


def _uuid4_strings(n: int) -> list[str]:
    """``n`` random UUID4 strings, ~10x faster than ``str(uuid.uuid4())`` in a loop (bulk imports)."""
    raw = os.urandom(16 * n).hex()
    out = []
    for i in range(0, 32 * n, 32):
        h = raw[i : i + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")
    return out


class MeasurementRepository(TenantScoped):
    """Append-only: there is deliberately no update or delete."""

    def append(self, rows: Sequence[MeasurementIn | dict[str, Any]], *, actor: str = "analytics") -> int:
        """Validate and bulk-insert rows in one statement; one ``measurement.collected`` event per campaign."""
        if not rows:
            return 0
        try:
            specs = _MEASUREMENTS.validate_python([r.model_dump() if isinstance(r, MeasurementIn) else r for r in rows])
        except pydantic.ValidationError as exc:
            raise to_spine_error(exc, prefix="rows") from None
        campaign_ids = {s["campaign_id"] for s in specs}
        owned = dict(
            self.session.execute(select(Campaign.id, Campaign.tenant_id).where(Campaign.id.in_(campaign_ids))).all()
        )
        for i, s in enumerate(specs):
            cid = s["campaign_id"]
            if cid not in owned:
                raise ValidationError(f"rows.{i}.campaign_id", f"no campaign {cid!r}", "use a campaign id")
            if owned[cid] != self.tenant_id:
                raise TenantIsolationError("campaign", cid, self.tenant_id)
        now = utcnow()
        version = current_version("measurement")
        dumped = [{k: v for k, v in s.items() if v is not None} for s in specs]
        # executemany needs one key set: provided fields + defaults (absent optionals stay NULL).
        keys = set().union(*dumped)
        keys |= {k for k, v in MEASUREMENT_DEFAULTS.items() if v is not None}
        base = {k: MEASUREMENT_DEFAULTS.get(k) for k in keys}
        base.update(tenant_id=self.tenant_id, _schema_version=version)
        payload = []
        for d, row_id in zip(dumped, _uuid4_strings(len(dumped)), strict=True):
            row = {**base, **d}
            row["id"] = row_id
            payload.append(row)
        # Core insert (not ORM bulk): one executemany; timestamps come from the database, not per-row binds.
        stmt = insert(Measurement.__table__).values(created_at=func.now())
        if "collected_at" in keys:
            for row in payload:
                row["collected_at"] = row["collected_at"] or now
        else:
            stmt = stmt.values(collected_at=func.now())
        self.session.execute(stmt, payload)
        stats: dict[str, list[Any]] = {}
        for s in payload:
            st = stats.setdefault(s["campaign_id"], [0, s["date"], s["date"], 0, 0])
            st[0] += 1
            st[1], st[2] = min(st[1], s["date"]), max(st[2], s["date"])
            st[3] += s["impressions"]
            st[4] += s["conversions"]
        for cid, (n, first, last, imps, convs) in stats.items():
            self._emit(
                "measurement.collected",
                "measurement",
                cid,
                {
                    "campaign_id": cid,
                    "rows": n,
                    "date_from": first.isoformat(),
                    "date_to": last.isoformat(),
                    "impressions": imps,
                    "conversions": convs,
                },
                actor,
                now,
            )
        self.session.flush()
        return len(payload)

    def list(
        self, campaign_id: str, *, start: dt.date | None = None, end: dt.date | None = None, limit: int = 10_000
    ) -> list[MeasurementOut]:
        self._owned(Campaign, campaign_id, "campaign", "campaign_id")
        stmt = select(Measurement).where(
            Measurement.tenant_id == self.tenant_id, Measurement.campaign_id == campaign_id
        )
        if start is not None:
            stmt = stmt.where(Measurement.date >= start)
        if end is not None:
            stmt = stmt.where(Measurement.date <= end)
        stmt = stmt.order_by(Measurement.date, Measurement.channel).limit(limit)
        return [MeasurementOut.model_validate(r) for r in self.session.scalars(stmt)]

    def count(self, campaign_ids: Iterable[str] | None = None) -> int:
        stmt = select(func.count()).select_from(Measurement).where(Measurement.tenant_id == self.tenant_id)
        if campaign_ids is not None:
            stmt = stmt.where(Measurement.campaign_id.in_(list(campaign_ids)))
        return self.session.scalar(stmt) or 0
