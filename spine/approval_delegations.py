"""Delegation of approval authority for a period (out of office), and who may resolve an approval with it.

An approver names a delegate who is already in a group that may approve (``approver_groups``); from ``starts_at``
until ``ends_at`` (or revocation) the delegate may resolve what the delegator may, on the delegator's behalf. The
requester can never resolve their own request, nor can anyone on the requester's behalf.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from spine.approval_errors import ApprovalError
from spine.audit import AuditLog
from spine.db import transaction, utcnow
from spine.models.approval_workflow import ApprovalDelegation
from spine.models.core import GroupMembership

MAX_PERIOD = dt.timedelta(days=90)


class DelegationError(ApprovalError):
    code = "delegation_invalid"


class DelegationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    delegator: str
    delegate: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    note: str | None
    created_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Authority:
    """The groups a user may resolve approvals for now: their own, and each active delegator's (by delegator)."""

    own: frozenset[str]
    delegated: dict[str, frozenset[str]]

    def all_groups(self) -> frozenset[str]:
        return self.own.union(*self.delegated.values()) if self.delegated else self.own


def groups_of(s: Session, tenant_id: str, user_id: str) -> frozenset[str]:
    """The directory groups of ``user_id`` in ``tenant_id`` (empty for an unknown user)."""
    q = select(GroupMembership.group_name).where(
        GroupMembership.tenant_id == tenant_id, GroupMembership.user_id == user_id
    )
    return frozenset(s.scalars(q))


class DelegationStore:
    """Tenant-scoped delegations; every create and revoke is audited in its own transaction."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        approver_groups: Collection[str],
        clock: Callable[[], dt.datetime] = utcnow,
        audit: AuditLog | None = None,
    ) -> None:
        self._sf = session_factory
        self._approver_groups = frozenset(approver_groups)
        self._clock = clock
        self._audit = audit

    def create(
        self,
        tenant_id: str,
        delegator: str,
        delegate: str,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        note: str | None = None,
    ) -> DelegationOut:
        """``delegator`` (an approver) hands their approval authority to ``delegate`` for the period."""
        if delegator.strip().casefold() == delegate.strip().casefold():
            raise DelegationError("an approver cannot delegate to themselves", "name another approver",
                                  field="delegate")  # fmt: skip
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise DelegationError("the period needs timezone-aware times", "send ISO 8601 with an offset (Z)",
                                  field="starts_at")  # fmt: skip
        if ends_at <= starts_at:
            raise DelegationError("the period ends before it starts", "set ends_at after starts_at", field="ends_at")
        if ends_at <= self._clock():
            raise DelegationError("the period is already over", "set ends_at in the future", field="ends_at")
        if ends_at - starts_at > MAX_PERIOD:
            raise DelegationError(f"the period is longer than {MAX_PERIOD.days} days",
                                  "delegate for a shorter period and renew it", field="ends_at")  # fmt: skip
        with transaction(self._sf) as s:
            own = groups_of(s, tenant_id, delegator) & self._approver_groups
            if not own:
                raise DelegationError(f"{delegator} is in no approver group, so has no authority to delegate",
                                      f"only members of {', '.join(sorted(self._approver_groups))} delegate",
                                      field="delegator")  # fmt: skip
            if not groups_of(s, tenant_id, delegate) & self._approver_groups:
                raise DelegationError(
                    f"{delegate} is in no group that may approve",
                    f"name a member of {', '.join(sorted(self._approver_groups))}", field="delegate",
                )  # fmt: skip
            row = ApprovalDelegation(
                id=str(uuid.uuid4()), tenant_id=tenant_id, delegator=delegator, delegate=delegate,
                starts_at=starts_at, ends_at=ends_at, note=note, created_by=delegator, created_at=self._clock(),
            )  # fmt: skip
            s.add(row)
            s.flush()
            self._audit_row(s, row, delegator, "delegated")
            return DelegationOut.model_validate(row)

    def revoke(self, tenant_id: str, delegation_id: str, actor: str) -> DelegationOut:
        """End a delegation now; only its delegator (or the delegate, declining it) may."""
        with transaction(self._sf) as s:
            row = s.get(ApprovalDelegation, delegation_id)
            if row is None or row.tenant_id != tenant_id:
                raise DelegationError(f"no delegation {delegation_id!r} in this tenant", "pass an id from the list",
                                      field="delegation_id")  # fmt: skip
            if actor not in (row.delegator, row.delegate):
                raise DelegationError(f"{actor} is neither the delegator nor the delegate",
                                      f"ask {row.delegator} to revoke it", field="delegation_id")  # fmt: skip
            if row.revoked_at is None:
                row.revoked_at = self._clock()
                s.flush()
                self._audit_row(s, row, actor, "delegation_revoked")
            return DelegationOut.model_validate(row)

    def list(self, tenant_id: str, user_id: str | None = None, *, active_only: bool = False) -> list[DelegationOut]:
        """Delegations of the tenant (given or received by ``user_id`` when given), newest first."""
        now = self._clock()
        with self._sf() as s:
            q = select(ApprovalDelegation).where(ApprovalDelegation.tenant_id == tenant_id)
            if user_id is not None:
                q = q.where((ApprovalDelegation.delegator == user_id) | (ApprovalDelegation.delegate == user_id))
            if active_only:
                q = q.where(ApprovalDelegation.revoked_at.is_(None), ApprovalDelegation.starts_at <= now,
                            ApprovalDelegation.ends_at > now)  # fmt: skip
            rows = s.scalars(q.order_by(ApprovalDelegation.created_at.desc(), ApprovalDelegation.id))
            return [DelegationOut.model_validate(r) for r in rows]

    def authority(self, tenant_id: str, user_id: str, own_groups: Iterable[str]) -> Authority:
        """What ``user_id`` may resolve now: their own groups plus each active delegator's approver groups."""
        own = frozenset(own_groups)
        delegated: dict[str, frozenset[str]] = {}
        with self._sf() as s:
            for d in self._active_for(s, tenant_id, user_id):
                groups = groups_of(s, tenant_id, d.delegator) & self._approver_groups
                if groups:
                    delegated[d.delegator] = delegated.get(d.delegator, frozenset()) | groups
        return Authority(own=own, delegated=delegated)

    def _active_for(self, s: Session, tenant_id: str, delegate: str) -> list[ApprovalDelegation]:
        now = self._clock()
        q = select(ApprovalDelegation).where(
            ApprovalDelegation.tenant_id == tenant_id, ApprovalDelegation.delegate == delegate,
            ApprovalDelegation.revoked_at.is_(None), ApprovalDelegation.starts_at <= now,
            ApprovalDelegation.ends_at > now,
        )  # fmt: skip
        return list(s.scalars(q))

    def _audit_row(self, s: Session, row: ApprovalDelegation, actor: str, decision: str) -> None:
        if self._audit is not None:
            detail = {"delegation_id": row.id, "delegator": row.delegator, "delegate": row.delegate,
                      "starts_at": row.starts_at.isoformat(), "ends_at": row.ends_at.isoformat()}  # fmt: skip
            self._audit.append_in(s, tenant_id=row.tenant_id, actor=actor, server="spine", tool="delegate_approvals",
                                  fingerprint=None, decision=decision, rule_ids=[], approval_id=None,
                                  detail=detail)  # fmt: skip
