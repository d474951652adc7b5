"""Approvals: calls held back for a human, resolved by an approver group, consumed exactly once.

Every status change is a conditional ``UPDATE ... WHERE approval_id = :id AND status = :old AND version = :v``
whose row count is checked, so of two processes resolving (or consuming) the same approval at once exactly
one wins and the other gets ``ApprovalConflict`` / ``ApprovalAlreadyUsed``; no lock is held across reads.

Group rule: an approver qualifies when one of their groups is the required group or outranks it
(``group_implies``; by default ``vp`` outranks ``marketing-leadership``, so a VP may approve a leadership
approval but not the other way round). The requester can never resolve their own request.

Using an approval is ``reserve`` -> ``complete`` (consumed, result stored for idempotent replays) or
``release`` (spine.approval_reservations); ``consume`` is the one-step form for callers without side effects
outside the approval's own transaction.
"""

from __future__ import annotations

import datetime as dt
import hmac
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from spine.approval_errors import (
    ApprovalAlreadyUsed,
    ApprovalConflict,
    ApprovalError,
    ApprovalExpired,
    ApprovalInUse,
    ApprovalMismatch,
    ApprovalNotFound,
    ApprovalNotPending,
    ApprovalNotResolved,
    ApprovalPreviouslyRejected,
    ApprovalRejected,
    ApprovalTampered,
    ApproverNotInGroup,
    SelfApprovalForbidden,
)
from spine.approval_reservations import DEFAULT_LEASE, ApprovalReservations
from spine.audit import AuditLog
from spine.db import transaction, utcnow
from spine.fingerprint import canonicalize, fingerprint
from spine.models.governance import APPROVAL_STATUSES, Approval, RejectedFingerprint

DEFAULT_TTL = dt.timedelta(hours=72)
_OPEN = ("pending", "approved")  # statuses that expire when expires_at passes
# Group -> groups it outranks (may approve for). Transitive.
DEFAULT_GROUP_IMPLIES: Mapping[str, Collection[str]] = {"vp": ("marketing-leadership",)}


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _require_text(field: str, value: str | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApprovalError(f"{field} is empty", f"pass a non-empty {field}", field=field)
    return value


class ApprovalStore(ApprovalReservations):
    """Tenant-scoped approvals on the spine database. Audit rows join each transaction when ``audit`` is given;
    ``lease`` bounds how long a reservation of a crashed call blocks the identical call."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Callable[[], dt.datetime] = utcnow,
        ttl: dt.timedelta = DEFAULT_TTL,
        group_implies: Mapping[str, Collection[str]] = DEFAULT_GROUP_IMPLIES,
        audit: AuditLog | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
    ) -> None:
        self._sf = session_factory
        self._lease = lease
        self._clock = clock
        self._ttl = ttl
        self._implies = {g: frozenset(v) for g, v in group_implies.items()}
        self._audit = audit

    # -- queries -------------------------------------------------------------------------------------------

    def get(self, tenant_id: str, approval_id: str) -> Approval:
        """The approval ``approval_id`` of ``tenant_id`` as of now (see ``_as_of``); another tenant's id raises
        ``ApprovalNotFound``."""
        with self._sf() as s:
            return self._as_of(s, [self._load(s, tenant_id, approval_id)])[0]

    def list(self, tenant_id: str, status: str | None = None, group: str | None = None) -> Sequence[Approval]:
        """Approvals of ``tenant_id`` as of now (see ``_as_of``), oldest first, by status and required group."""
        if status is not None and status not in APPROVAL_STATUSES:
            raise ApprovalError(
                f"unknown status {status!r}", f"use one of {', '.join(APPROVAL_STATUSES)}", field="status"
            )
        now = self._clock()
        overdue = and_(Approval.status.in_(_OPEN), Approval.expires_at <= now)
        with self._sf() as s:
            q = select(Approval).where(Approval.tenant_id == tenant_id)
            if status == "expired":
                q = q.where(or_(Approval.status == "expired", overdue))
            elif status in _OPEN:
                q = q.where(Approval.status == status, Approval.expires_at > now)
            elif status is not None:
                q = q.where(Approval.status == status)
            if group is not None:
                q = q.where(Approval.required_group == group)
            return self._as_of(s, list(s.scalars(q.order_by(Approval.created_at, Approval.approval_id))), now)

    def _as_of(self, s: Session, rows: list[Approval], now: dt.datetime | None = None) -> list[Approval]:
        """``rows`` detached, an overdue pending or approved one shown as expired. Reading writes nothing (the
        read tools are read-only); the next resolve or consume of an overdue approval marks it expired."""
        now = now or self._clock()
        for a in rows:
            s.expunge(a)
            if a.status in _OPEN and a.expires_at <= now:
                a.status = "expired"
        return rows

    def expire_overdue(self, tenant_id: str | None = None) -> int:
        """Mark pending/approved approvals past their expiry as expired; returns how many."""
        now = self._clock()
        with transaction(self._sf) as s:
            q = select(Approval).where(Approval.status.in_(_OPEN), Approval.expires_at <= now)
            if tenant_id is not None:
                q = q.where(Approval.tenant_id == tenant_id)
            return sum(self._expire(s, a) for a in s.scalars(q).all())

    # -- commands ------------------------------------------------------------------------------------------

    def request(
        self,
        tenant_id: str,
        server: str,
        tool: str,
        arguments: Any,
        requester: str,
        required_group: str,
        reason: str,
        rule_ids: Iterable[str] = (),
        policy_version: str | None = None,
    ) -> Approval:
        """Store a pending approval for this call, or return the open one for the same call. ``policy_version``
        is the version of the policies that asked for it (the guard re-checks the call when it changed).

        Raises ``ApprovalPreviouslyRejected`` when an approver already rejected exactly this call.
        """
        for field, value in (
            ("tenant_id", tenant_id), ("server", server), ("tool", tool), ("requester", requester),
            ("required_group", required_group), ("reason", reason),
        ):  # fmt: skip
            _require_text(field, value)
        canonical = canonicalize(arguments, "arguments")
        fp = fingerprint(server, tool, canonical, requester)
        for _ in range(3):
            now = self._clock()
            try:
                with transaction(self._sf) as s:
                    rejected = s.get(RejectedFingerprint, (tenant_id, fp))
                    if rejected is not None:
                        raise ApprovalPreviouslyRejected(
                            f"this exact call was rejected by {rejected.rejected_by} "
                            f"(approval {rejected.approval_id}): {rejected.note or 'no note'}",
                            "do not retry it; change the request (e.g. the amount) or ask the approver",
                            approval_id=rejected.approval_id,
                        )
                    open_ = s.scalars(
                        select(Approval).where(
                            Approval.tenant_id == tenant_id,
                            Approval.fingerprint == fp,
                            Approval.status == "pending",
                        )
                    ).first()
                    if open_ is not None:
                        if open_.expires_at > now:
                            return open_
                        self._expire(s, open_)
                    approval = Approval(
                        approval_id=str(uuid.uuid4()), tenant_id=tenant_id, server=server, tool=tool,
                        arguments=canonical, fingerprint=fp, requester=requester,
                        required_group=required_group, reason=reason, rule_ids=list(rule_ids),
                        status="pending", created_at=now, expires_at=now + self._ttl, version=1,
                        policy_version=policy_version,
                    )  # fmt: skip
                    s.add(approval)
                    s.flush()
                    return approval
            except IntegrityError:
                continue  # a concurrent identical request won the unique pending slot: read it next time
        raise ApprovalConflict(
            "could not store the approval request because of concurrent identical requests", "retry the call"
        )

    def resolve(
        self,
        tenant_id: str,
        approval_id: str,
        approver: str,
        approver_groups: Iterable[str],
        decision: Literal["approve", "reject"],
        note: str | None = None,
        on_behalf_of: str | None = None,
    ) -> Approval:
        """Approve or reject a pending approval as ``approver`` (with ``approver_groups``, a delegator's when
        ``on_behalf_of`` names them); exactly one of concurrent resolvers wins."""
        if decision not in ("approve", "reject"):
            raise ApprovalError(
                f"unknown decision {decision!r}", "pass decision='approve' or 'reject'", field="decision"
            )
        _require_text("approver", approver)
        groups = {approver_groups} if isinstance(approver_groups, str) else set(approver_groups)
        now = self._clock()
        expired = False
        with transaction(self._sf) as s:
            a = self._load(s, tenant_id, approval_id)
            self._check_intact(a)
            if _same_person(a.requester, approver) or (on_behalf_of and _same_person(a.requester, on_behalf_of)):
                raise SelfApprovalForbidden(
                    f"{approver} requested approval {approval_id} and cannot resolve it",
                    f"ask another member of {a.required_group!r}",
                    approval_id=approval_id,
                )
            if not self.qualifies(a.required_group, groups):
                raise ApproverNotInGroup(
                    f"{approver} is not in {a.required_group!r} (groups: {', '.join(sorted(groups)) or 'none'})",
                    f"ask a member of {a.required_group!r} to resolve it",
                    approval_id=approval_id,
                )
            if a.status != "pending":
                raise ApprovalNotPending(
                    f"approval {approval_id} is {a.status}, not pending", "nothing to resolve",
                    approval_id=approval_id,
                )  # fmt: skip
            if a.expires_at <= now:
                expired = self._expire(s, a)
            else:
                status = "approved" if decision == "approve" else "rejected"
                values = {"resolved_by": approver, "resolved_at": now, "note": note, "on_behalf_of": on_behalf_of}
                if not self._transition(s, a, status, now, **values):
                    raise ApprovalConflict(
                        f"approval {approval_id} was resolved concurrently by someone else",
                        "re-read it with get() to see the outcome",
                        approval_id=approval_id,
                    )
                if status == "rejected":
                    self._remember_rejection(s, a, approver, note, now)
                detail = {"required_group": a.required_group}
                self._audit_row(
                    s, a, approver, status, {**detail, "on_behalf_of": on_behalf_of} if on_behalf_of else detail
                )
        if expired:
            raise ApprovalExpired(
                f"approval {approval_id} expired at {a.expires_at.isoformat()}",
                "the requester must send the call again to get a new approval",
                approval_id=approval_id,
            )
        return a

    def consume(
        self, tenant_id: str, approval_id: str, server: str, tool: str, arguments: Any, requester: str
    ) -> Approval:
        """Use an approved approval for exactly this call, once; marks an overdue one expired."""
        try:
            with transaction(self._sf) as s:
                return self.consume_in(s, tenant_id, approval_id, server, tool, arguments, requester)
        except ApprovalExpired:
            with transaction(self._sf) as s:  # record the expiry that the failed transaction rolled back
                self._expire(s, self._load(s, tenant_id, approval_id))
            raise

    def consume_in(
        self,
        session: Session,
        tenant_id: str,
        approval_id: str,
        server: str,
        tool: str,
        arguments: Any,
        requester: str,
    ) -> Approval:
        """``consume`` inside the caller's transaction, so a failed write leaves the approval unused."""
        now = self._clock()
        a = self._load(session, tenant_id, approval_id)
        self._check_intact(a)
        if not hmac.compare_digest(a.fingerprint, fingerprint(server, tool, arguments, requester)):
            raise ApprovalMismatch(
                f"this call differs from the one approved in {approval_id} (server, tool, arguments or requester)",
                "re-send exactly the approved call, or send the new call without approval_id to request approval",
                approval_id=approval_id,
            )
        self._check_consumable(a, now)
        if not self._transition(session, a, "consumed", now, consumed_at=now):
            session.refresh(a)
            self._check_consumable(a, now)
            raise ApprovalConflict(
                f"approval {approval_id} changed concurrently", "re-read it with get()", approval_id=approval_id
            )
        self._audit_row(session, a, requester, "consumed", {})
        return a

    def forget_rejection(self, tenant_id: str, fingerprint_hex: str) -> bool:
        """Allow a previously rejected call to be requested again (an approver's explicit choice)."""
        with transaction(self._sf) as s:
            row = s.get(RejectedFingerprint, (tenant_id, fingerprint_hex))
            if row is None:
                return False
            s.delete(row)
            return True

    def qualifies(self, required_group: str, groups: Iterable[str]) -> bool:
        """True when one of ``groups`` is ``required_group`` or (transitively) outranks it."""
        seen: set[str] = set()
        todo = list(groups)
        while todo:
            g = todo.pop()
            if g == required_group:
                return True
            if g not in seen:
                seen.add(g)
                todo.extend(self._implies.get(g, ()))
        return False

    # -- internals -----------------------------------------------------------------------------------------

    def _load(self, s: Session, tenant_id: str, approval_id: str) -> Approval:
        a = s.get(Approval, approval_id) if isinstance(approval_id, str) else None
        if a is None or a.tenant_id != tenant_id:
            raise ApprovalNotFound(str(approval_id))  # another tenant's approval does not exist for you
        return a

    def _check_intact(self, a: Approval) -> None:
        # The stored arguments are what approvers see: they must still hash to the stored fingerprint.
        if not hmac.compare_digest(a.fingerprint, fingerprint(a.server, a.tool, a.arguments, a.requester)):
            raise ApprovalTampered(
                f"approval {a.approval_id} was altered after it was stored (fingerprint no longer matches)",
                "do not use it; run `mcc audit verify` and request a new approval",
                approval_id=a.approval_id,
            )

    def check_usable(self, a: Approval) -> None:
        """Raise the typed error (with its fix) when ``a`` cannot be used now: pending, consumed, rejected or
        expired. Approved and in_use pass (``reserve`` decides about a reservation)."""
        if a.status != "in_use":
            self._check_consumable(a, self._clock())

    def _check_consumable(self, a: Approval, now: dt.datetime) -> None:
        aid = a.approval_id
        if a.status == "in_use":
            raise ApprovalInUse(
                f"approval {aid} is in use by a call still running",
                "wait for that call's answer, then re-send the identical call to get its result",
                approval_id=aid,
            )
        if a.status == "consumed":
            raise ApprovalAlreadyUsed(
                f"approval {aid} was already used at {a.consumed_at.isoformat() if a.consumed_at else '?'}",
                "send the call without approval_id to request a new approval",
                approval_id=aid,
            )
        if a.status == "rejected":
            raise ApprovalRejected(
                f"approval {aid} was rejected by {a.resolved_by}: {a.note or 'no note'}",
                "do not retry this call; change it or ask the approver",
                approval_id=aid,
            )
        if a.status == "expired" or a.expires_at <= now:
            raise ApprovalExpired(
                f"approval {aid} expired at {a.expires_at.isoformat()}",
                "send the call without approval_id to request a new approval",
                approval_id=aid,
            )
        if a.status == "pending":
            raise ApprovalNotResolved(
                f"approval {aid} is still pending with {a.required_group!r}",
                "wait until an approver approves it, then re-send the call with approval_id",
                approval_id=aid,
            )

    def _transition(self, s: Session, a: Approval, status: str, now: dt.datetime, **values: Any) -> bool:
        """Conditional status change; False when another transaction changed the row first."""
        res = s.execute(
            update(Approval)
            .where(
                Approval.approval_id == a.approval_id,
                Approval.status == a.status,
                Approval.version == a.version,
                Approval.expires_at > now,
            )
            .values(status=status, version=a.version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            return False
        s.refresh(a)
        return True

    def _expire(self, s: Session, a: Approval) -> bool:
        res = s.execute(
            update(Approval)
            .where(
                Approval.approval_id == a.approval_id,
                Approval.status.in_(_OPEN),
                Approval.version == a.version,
            )
            .values(status="expired", version=a.version + 1)
            .execution_options(synchronize_session=False)
        )
        s.refresh(a)
        if res.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self._audit_row(s, a, "system", "expired", {})
        return True

    def _remember_rejection(self, s: Session, a: Approval, approver: str, note: str | None, now: dt.datetime) -> None:
        if s.get(RejectedFingerprint, (a.tenant_id, a.fingerprint)) is not None:
            return
        try:
            with s.begin_nested():
                s.add(
                    RejectedFingerprint(
                        tenant_id=a.tenant_id, fingerprint=a.fingerprint, approval_id=a.approval_id,
                        rejected_by=approver, note=note, rejected_at=now,
                    )
                )  # fmt: skip
        except IntegrityError:
            pass  # a duplicate request's rejection already recorded this fingerprint

    def _audit_row(self, s: Session, a: Approval, actor: str, decision: str, detail: dict[str, Any]) -> None:
        if self._audit is not None:
            self._audit.append_in(
                s, tenant_id=a.tenant_id, actor=actor, server=a.server, tool=a.tool,
                fingerprint=a.fingerprint, decision=decision, rule_ids=list(a.rule_ids or []),
                approval_id=a.approval_id, detail=detail,
            )  # fmt: skip
