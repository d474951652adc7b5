"""The approvals sweep: notify approvers of new requests, escalate stale ones, expire overdue ones, tell requesters.

Idempotent and safe to run from many processes at once: each step marks the approval with a conditional update
(``notified_at`` / ``escalated_at`` / ``expiry_notified_at`` still NULL) in the same transaction that queues its
messages, so a second sweep finds nothing left to do and two concurrent sweeps queue each message once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import transaction, utcnow
from spine.models.governance import Approval
from spine.notifications import Draft, Outbox

# (session, approval, event, group) -> the messages to queue; event: requested | escalated | expired.
Planner = Callable[[Session, Approval, str, str | None], list[Draft]]
# Who is told when an approval is still pending after the escalation delay: the next group up.
DEFAULT_ESCALATION: Mapping[str, str] = {"marketing-leadership": "vp"}


@dataclass
class SweepReport:
    notified: int = 0
    escalated: int = 0
    expired: int = 0
    expiry_told: int = 0
    queued: int = 0
    # (tenant_id, approval_id) whose requester this pass told of the expiry: their waiting threads may resume now.
    told: list[tuple[str, str]] = field(default_factory=list)


class ApprovalSweep:
    """One sweep pass over every tenant (or one)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        store: ApprovalStore,
        outbox: Outbox,
        planner: Planner,
        escalate_after: dt.timedelta,
        escalation: Mapping[str, str] = DEFAULT_ESCALATION,
        audit: AuditLog | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._sf = session_factory
        self._store = store
        self._outbox = outbox
        self._plan = planner
        self._escalate_after = escalate_after
        self._escalation = dict(escalation)
        self._audit = audit
        self._clock = clock

    def run(self, tenant_id: str | None = None) -> SweepReport:
        report = SweepReport()
        report.expired = self._store.expire_overdue(tenant_id)
        now = self._clock()
        pending = (Approval.status == "pending", Approval.expires_at > now)
        new = self._ids(tenant_id, *pending, Approval.notified_at.is_(None))
        for aid in new:
            report.queued += self._mark(aid, "notified_at", "requested", lambda a: a.required_group, report, "notified")
        stale = self._ids(tenant_id, *pending, Approval.escalated_at.is_(None),
                          Approval.created_at <= now - self._escalate_after)  # fmt: skip
        for aid in stale:
            up = lambda a: self._escalation.get(a.required_group)  # noqa: E731
            report.queued += self._mark(aid, "escalated_at", "escalated", up, report, "escalated")
        # Only requests nobody decided: an approved call the requester did not use (or that an edit made free of
        # approval, so it ran without consuming it) has nothing to tell.
        gone = self._ids(tenant_id, Approval.status == "expired", Approval.resolved_by.is_(None),
                         Approval.expiry_notified_at.is_(None))  # fmt: skip
        for aid in gone:
            report.queued += self._mark(aid, "expiry_notified_at", "expired", lambda a: None, report, "expiry_told")
        return report

    def _ids(self, tenant_id: str | None, *where: object) -> list[str]:
        with self._sf() as s:
            q = select(Approval.approval_id).where(*where)  # type: ignore[arg-type]
            if tenant_id is not None:
                q = q.where(Approval.tenant_id == tenant_id)
            return list(s.scalars(q.order_by(Approval.created_at)))

    def _mark(self, approval_id: str, column: str, event: str, group_of: Callable[[Approval], str | None],
              report: SweepReport, counter: str) -> int:  # fmt: skip
        """Claim the step for this approval (column still NULL), queue its messages and audit it, in one transaction."""
        now = self._clock()
        with transaction(self._sf) as s:
            a = s.get(Approval, approval_id)
            if a is None:
                return 0
            group = group_of(a)
            if event == "escalated" and group is None:
                values: dict[str, object] = {column: now}  # nobody above this group: nothing to tell, step done
            else:
                values = {column: now, **({"escalated_to": group} if event == "escalated" else {})}
            res = s.execute(
                update(Approval).where(Approval.approval_id == approval_id, getattr(Approval, column).is_(None))
                .values(**values).execution_options(synchronize_session=False)
            )  # fmt: skip
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return 0  # another sweep did this step
            s.refresh(a)
            if event == "escalated" and group is None:
                return 0
            drafts = self._plan(s, a, event, group)
            added = self._outbox.enqueue_in(s, a.tenant_id, f"{a.approval_id}:{event}", event, a.approval_id, drafts)
            if event != "requested" and self._audit is not None:
                self._audit.append_in(s, tenant_id=a.tenant_id, actor="system", server=a.server, tool=a.tool,
                                      fingerprint=a.fingerprint,
                                      decision=event if event == "escalated" else "expiry_told",
                                      rule_ids=list(a.rule_ids or []), approval_id=a.approval_id,
                                      detail={"notify": group or a.requester, "messages": added})  # fmt: skip
            setattr(report, counter, getattr(report, counter) + 1)
            if event == "expired":
                report.told.append((a.tenant_id, a.approval_id))
            return added
