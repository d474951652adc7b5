"""Field authority: which system owns each canonical field, how it syncs, and how conflicts resolve.

The matrix is data (seed §5.1); ``resolve_conflict`` applies one of the four rules (seed §5.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Owner(StrEnum):
    """The system that is authoritative for a field."""

    MCC = "mcc"
    EXECUTION = "execution"  # Workfront or Asana, whichever runs the campaign
    ANALYTICS = "analytics"
    SALESFORCE = "salesforce"
    DAM = "dam"


class Direction(StrEnum):
    MCC_TO_ALL = "mcc->all"
    MCC_TO_EXECUTION = "mcc->execution"
    EXECUTION_TO_MCC = "execution->mcc"
    BIDIRECTIONAL = "bidirectional"
    ANALYTICS_TO_MCC = "analytics->mcc"
    SALESFORCE_TO_MCC = "salesforce->mcc"
    DAM_TO_MCC = "dam->mcc"
    MCC_ONLY = "mcc-only"


class ConflictRule(StrEnum):
    AUTHORITY_WINS = "authority_wins"
    LAST_WRITE_WINS = "last_write_wins"
    MERGE = "merge"
    MANUAL = "manual"


OWNER_LABELS: Mapping[Owner, str] = MappingProxyType(
    {
        Owner.MCC: "MCC",
        Owner.EXECUTION: "the execution system (Workfront/Asana)",
        Owner.ANALYTICS: "analytics/finance",
        Owner.SALESFORCE: "Salesforce",
        Owner.DAM: "the DAM",
    }
)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One row of the authority matrix."""

    field: str
    owner: Owner
    direction: Direction
    conflict_rule: ConflictRule

    def describe_owner(self) -> str:
        """Human wording of the owner, used in denial messages."""
        return OWNER_LABELS[self.owner]


def _rules(*rows: tuple[str, Owner, Direction, ConflictRule]) -> Mapping[str, FieldRule]:
    return MappingProxyType({f: FieldRule(f, o, d, c) for f, o, d, c in rows})


_O, _D, _C = Owner, Direction, ConflictRule
FIELD_AUTHORITY: Mapping[str, FieldRule] = _rules(
    ("campaign.campaign_id", _O.MCC, _D.MCC_TO_ALL, _C.AUTHORITY_WINS),
    ("campaign.name", _O.MCC, _D.MCC_TO_EXECUTION, _C.AUTHORITY_WINS),
    ("campaign.description", _O.MCC, _D.MCC_TO_EXECUTION, _C.AUTHORITY_WINS),
    ("campaign.type", _O.MCC, _D.MCC_TO_EXECUTION, _C.AUTHORITY_WINS),
    ("campaign.tier", _O.MCC, _D.MCC_TO_EXECUTION, _C.AUTHORITY_WINS),
    ("campaign.owner_id", _O.MCC, _D.MCC_ONLY, _C.AUTHORITY_WINS),
    ("campaign.team_id", _O.MCC, _D.MCC_ONLY, _C.AUTHORITY_WINS),
    ("campaign.channels", _O.MCC, _D.MCC_ONLY, _C.AUTHORITY_WINS),
    ("campaign.audiences", _O.MCC, _D.MCC_ONLY, _C.AUTHORITY_WINS),
    ("campaign.products", _O.MCC, _D.MCC_ONLY, _C.AUTHORITY_WINS),
    ("campaign.regions", _O.MCC, _D.MCC_ONLY, _C.AUTHORITY_WINS),
    ("campaign.tags", _O.MCC, _D.MCC_ONLY, _C.MERGE),
    ("campaign.stakeholder_ids", _O.MCC, _D.MCC_ONLY, _C.MERGE),
    ("campaign.launch_date", _O.MCC, _D.BIDIRECTIONAL, _C.LAST_WRITE_WINS),
    ("campaign.end_date", _O.MCC, _D.BIDIRECTIONAL, _C.LAST_WRITE_WINS),
    ("campaign.status", _O.EXECUTION, _D.EXECUTION_TO_MCC, _C.AUTHORITY_WINS),
    ("campaign.budget_planned", _O.MCC, _D.MCC_TO_EXECUTION, _C.AUTHORITY_WINS),
    ("campaign.budget_committed", _O.ANALYTICS, _D.ANALYTICS_TO_MCC, _C.AUTHORITY_WINS),
    ("campaign.budget_spent", _O.ANALYTICS, _D.ANALYTICS_TO_MCC, _C.AUTHORITY_WINS),
    ("campaign.impressions", _O.ANALYTICS, _D.ANALYTICS_TO_MCC, _C.AUTHORITY_WINS),
    ("campaign.conversions", _O.ANALYTICS, _D.ANALYTICS_TO_MCC, _C.AUTHORITY_WINS),
    ("campaign.pipeline_generated", _O.SALESFORCE, _D.SALESFORCE_TO_MCC, _C.AUTHORITY_WINS),
    ("campaign.assets", _O.DAM, _D.DAM_TO_MCC, _C.AUTHORITY_WINS),
    ("campaign.external_refs.workfront_project_id", _O.MCC, _D.MCC_ONLY, _C.MANUAL),
    ("campaign.external_refs.asana_project_gid", _O.MCC, _D.MCC_ONLY, _C.MANUAL),
    ("work_item.name", _O.EXECUTION, _D.BIDIRECTIONAL, _C.LAST_WRITE_WINS),
    ("work_item.description", _O.EXECUTION, _D.BIDIRECTIONAL, _C.LAST_WRITE_WINS),
    ("work_item.status", _O.EXECUTION, _D.EXECUTION_TO_MCC, _C.AUTHORITY_WINS),
    ("work_item.percent_complete", _O.EXECUTION, _D.EXECUTION_TO_MCC, _C.AUTHORITY_WINS),
    ("work_item.assignee_id", _O.EXECUTION, _D.EXECUTION_TO_MCC, _C.AUTHORITY_WINS),
    ("work_item.due_date", _O.EXECUTION, _D.BIDIRECTIONAL, _C.LAST_WRITE_WINS),
    ("work_item.planned_end_date", _O.EXECUTION, _D.BIDIRECTIONAL, _C.LAST_WRITE_WINS),
    ("work_item.parent_item_id", _O.EXECUTION, _D.EXECUTION_TO_MCC, _C.MANUAL),
    ("asset.metadata", _O.DAM, _D.DAM_TO_MCC, _C.AUTHORITY_WINS),
    ("strategy.content", _O.MCC, _D.MCC_ONLY, _C.AUTHORITY_WINS),
    ("strategy.approval_status", _O.MCC, _D.MCC_ONLY, _C.AUTHORITY_WINS),
)


class UnknownField(KeyError):
    """A field that the authority matrix does not list; callers treat it as not writable."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: not in the field-authority matrix; add a row to spine.authority.FIELD_AUTHORITY"


def rule_for(field: str) -> FieldRule:
    """The authority rule of ``entity.field``; raises ``UnknownField`` when unlisted."""
    try:
        return FIELD_AUTHORITY[field]
    except KeyError:
        raise UnknownField(field) from None


def fields_owned_by(owner: Owner, entity: str | None = None) -> frozenset[str]:
    """All fields (``entity.field``) whose owner is ``owner``, optionally for one entity."""
    return frozenset(
        f for f, r in FIELD_AUTHORITY.items() if r.owner == owner and (entity is None or f.startswith(entity + "."))
    )


@dataclass(frozen=True, slots=True)
class Resolution:
    """Outcome of a conflict: the value to keep, which side won, and why."""

    value: Any
    winner: str  # "mcc" | "external" | "merged"
    explanation: str


class ManualResolutionRequired(Exception):
    """A structural conflict that a person must resolve; the sync engine records it."""

    def __init__(self, field: str, mcc_value: Any, external_value: Any) -> None:
        super().__init__(f"{field}: MCC has {mcc_value!r}, the external system has {external_value!r}")
        self.field = field
        self.mcc_value = mcc_value
        self.external_value = external_value


def _merge(a: Sequence[Any], b: Sequence[Any]) -> list[Any]:
    # Union that keeps first-seen order so results are deterministic.
    seen: list[Any] = []
    for item in [*a, *b]:
        if item not in seen:
            seen.append(item)
    return seen


def resolve_conflict(
    field: str,
    mcc_value: Any,
    external_value: Any,
    mcc_at: dt.datetime,
    external_at: dt.datetime,
) -> Resolution:
    """Resolve one field that both MCC and an external system changed, by the field's rule.

    Equal timestamps under last-write-wins go to the field's owner, so the result never depends on
    argument order. ``MANUAL`` raises ``ManualResolutionRequired``.
    """
    rule = rule_for(field)
    owner_side = "mcc" if rule.owner is Owner.MCC else "external"
    if mcc_value == external_value and rule.conflict_rule is not ConflictRule.MERGE:
        return Resolution(mcc_value, owner_side, "values agree")
    match rule.conflict_rule:
        case ConflictRule.AUTHORITY_WINS:
            value = mcc_value if owner_side == "mcc" else external_value
            return Resolution(value, owner_side, f"{rule.describe_owner()} owns {field}")
        case ConflictRule.LAST_WRITE_WINS:
            later = "mcc" if mcc_at > external_at else "external"
            winner = owner_side if mcc_at == external_at else later
            value = mcc_value if winner == "mcc" else external_value
            when = mcc_at if winner == "mcc" else external_at
            return Resolution(value, winner, f"last write ({winner} at {when.isoformat()}) wins")
        case ConflictRule.MERGE:
            if isinstance(mcc_value, list | tuple) and isinstance(external_value, list | tuple):
                return Resolution(_merge(mcc_value, external_value), "merged", "merged as a union")
            value = mcc_value if owner_side == "mcc" else external_value
            return Resolution(value, owner_side, "could not merge non-lists; authority wins")
        case ConflictRule.MANUAL:
            raise ManualResolutionRequired(field, mcc_value, external_value)
    raise AssertionError(f"unhandled conflict rule {rule.conflict_rule}")  # pragma: no cover
