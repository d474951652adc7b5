"""Per-field decisions for one inbound change: the authority matrix, per-field versions (no older event overwrites
a newer one) and the four conflict rules when MCC changed the same field since the system last reported it."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spine.authority import (
    ConflictRule,
    Direction,
    FieldRule,
    ManualResolutionRequired,
    Owner,
    UnknownField,
    resolve_conflict,
    rule_for,
)
from spine.models import SyncConflict, SyncState
from sync.state_machine import after_inbound

log = logging.getLogger("mcc.sync.inbound")
INBOUND = (Direction.EXECUTION_TO_MCC, Direction.BIDIRECTIONAL)
# Work item fields the connectors mirror that the matrix does not list: the execution system owns them.
MIRRORED = {"work_item.planned_start_date"}


@dataclass
class Outcome:
    """What processing one delivery did, kept on its inbox row."""

    applied: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    ignored_mcc_owned: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    campaigns: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "campaigns" and v}
        return {k: v[:200] for k, v in out.items()}  # a delivery with thousands of events stays readable


def _rule(key: str) -> FieldRule | None:
    try:
        return rule_for(key)
    except UnknownField:
        if key in MIRRORED:
            return FieldRule(key, Owner.EXECUTION, Direction.EXECUTION_TO_MCC, ConflictRule.AUTHORITY_WINS)
        return None


def _at(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


@dataclass
class FieldDecider:
    """Decides, field by field, what an external change may write to one entity; keeps its SyncState."""

    session: Session
    tenant_id: str
    entity_type: str
    canonical_id: str
    system: str
    delivery_id: str | None
    outcome: Outcome
    preloaded: SyncState | bool | None = False  # False: read it here; None: known not to exist yet

    def __post_init__(self) -> None:
        self.state = self.preloaded if self.preloaded is not False else self.session.scalar(
            select(SyncState).where(
                SyncState.entity_type == self.entity_type, SyncState.canonical_id == self.canonical_id,
                SyncState.system == self.system,
            )
        )  # fmt: skip
        if self.state is None:
            self.state = SyncState(tenant_id=self.tenant_id, entity_type=self.entity_type,
                                   canonical_id=self.canonical_id, system=self.system, field_versions={},
                                   status="synced")  # fmt: skip
            self.session.add(self.state)
        self.versions: dict[str, Any] = dict(self.state.field_versions or {})
        self.new_conflict = False

    def decide(self, current: dict[str, Any], incoming: dict[str, Any], at: dt.datetime) -> dict[str, Any]:
        """The changes to write from ``incoming`` (canonical field -> value) seen at ``at``."""
        writes: dict[str, Any] = {}
        for name, value in incoming.items():
            key = f"{self.entity_type}.{name}"
            rule = _rule(key)
            if rule is None or rule.direction not in INBOUND:
                # MCC (or analytics) owns it: the external value is not taken; say so once per field.
                self.outcome.ignored_mcc_owned.append(f"{key}@{self.canonical_id}")
                log.info("inbound %s change to %s ignored: not owned by %s", self.system, key, self.system)
                continue
            fv = dict(self.versions.get(name, {}))
            seen = _at(fv.get("external_at"))
            if seen is not None and at < seen:
                self.outcome.stale.append(f"{key}@{self.canonical_id}")
                continue
            mine = current.get(name)
            mcc_at = _at(fv.get("updated_at")) if fv.get("source") == "mcc" else None
            take, winner_value = True, value
            if mine != value and mcc_at is not None and (seen is None or mcc_at > seen):
                try:
                    res = resolve_conflict(key, mine, value, mcc_at, at)
                    take, winner_value = res.winner != "mcc", res.value
                except ManualResolutionRequired:
                    self._conflict(name, mine, value, at)
                    take = False
            fv["external_at"] = at.isoformat()
            if take and winner_value != mine:
                writes[name] = winner_value
                fv.update(version=int(fv.get("version", 0)) + 1, updated_at=at.isoformat(), source=self.system)
                self.outcome.applied.append(f"{key}@{self.canonical_id}")
            self.versions[name] = fv
        return writes

    def _conflict(self, name: str, mine: Any, theirs: Any, at: dt.datetime) -> None:
        row = SyncConflict(tenant_id=self.tenant_id, entity_type=self.entity_type, canonical_id=self.canonical_id,
                           system=self.system, field=name, mcc_value=_json(mine), external_value=_json(theirs),
                           external_at=at, delivery_id=self.delivery_id, status="open")  # fmt: skip
        self.session.add(row)
        self.session.flush()
        self.new_conflict = True
        self.outcome.conflicts.append(row.id)

    def save(self, at: dt.datetime) -> None:
        """Write the per-field versions and the state after this change."""
        open_conflict = self.new_conflict or self.state.status == "conflict"
        self.state.field_versions = self.versions  # reassigned so the JSON change is tracked
        self.state.status = after_inbound(self.state.status or "synced", open_conflict)
        self.state.last_synced_at = at
