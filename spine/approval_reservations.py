"""Using an approval: reserve it for the call, then consume it with the call's result, or release it.

``approved -> in_use`` (``reserve``) is a conditional UPDATE on ``(status, version)``: of two concurrent uses
exactly one wins, the other gets ``ApprovalInUse``. The guard then runs the handler:

* the side effect committed -> ``complete``: ``in_use -> consumed`` with the call's result stored, so re-sending
  the identical call (same arguments, requester and approval id) returns that result instead of running again
  (``replayable``): a resumed conversation or a client whose reply was lost converges instead of failing;
* the call failed -> ``release``: ``in_use -> approved``; only the identical call can use it again (the
  fingerprint binds server, tool, arguments and requester);
* the process died in between -> the reservation lapses after ``lease`` (``reserved_until``); then the identical
  call may re-claim it. It re-runs the handler, which converges through the handlers' idempotency keys (the
  guard keys creates by the call fingerprint when the caller gave no key): never a second object.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from spine.approval_errors import ApprovalExpired, ApprovalInUse, ApprovalMismatch
from spine.db import transaction
from spine.fingerprint import fingerprint
from spine.models.governance import Approval

DEFAULT_LEASE = dt.timedelta(minutes=2)


class ApprovalReservations:
    """Mixed into ``ApprovalStore``: the reservation lifecycle of one approved call."""

    _sf: sessionmaker[Session]
    _clock: Callable[[], dt.datetime]
    _lease: dt.timedelta

    # Provided by ApprovalStore.
    def _load(self, s: Session, tenant_id: str, approval_id: str) -> Approval: ...  # pragma: no cover
    def _check_intact(self, a: Approval) -> None: ...  # pragma: no cover
    def _check_consumable(self, a: Approval, now: dt.datetime) -> None: ...  # pragma: no cover
    def _audit_row(
        self, s: Session, a: Approval, actor: str, decision: str, detail: dict[str, Any]
    ) -> None: ...  # pragma: no cover

    def reserve(
        self, tenant_id: str, approval_id: str, server: str, tool: str, arguments: Any, requester: str
    ) -> Approval:
        """Reserve an approved approval for exactly this call until ``now + lease``; returns it (in_use, with the
        version ``complete``/``release`` need). Raises ``ApprovalInUse`` while another call holds it."""
        now = self._clock()
        with transaction(self._sf) as s:
            a = self._load(s, tenant_id, approval_id)
            self._check_intact(a)
            self._check_call(a, server, tool, arguments, requester)
            reclaim = a.status == "in_use"
            if reclaim:
                self._check_lapsed(a, now)
            else:
                self._check_consumable(a, now)
            res = s.execute(
                update(Approval)
                .where(
                    Approval.approval_id == a.approval_id,
                    Approval.status == a.status,
                    Approval.version == a.version,
                    Approval.expires_at > now,
                )
                .values(status="in_use", reserved_until=now + self._lease, version=a.version + 1)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise ApprovalInUse(
                    f"approval {approval_id} was taken by a concurrent call",
                    "wait for that call's answer, then re-send the identical call to get its result",
                    approval_id=approval_id,
                )
            s.refresh(a)
            if reclaim:
                self._audit_row(s, a, requester, "reclaimed", {"reason": "the previous reservation lapsed"})
            s.expunge(a)
        return a

    def complete(self, tenant_id: str, approval_id: str, requester: str, result: Any) -> bool:
        """The reserved call's side effect committed: ``in_use -> consumed`` with ``result`` stored for replays.
        False when the approval was no longer in use (a re-claiming call finished first and stored its result)."""
        now = self._clock()
        with transaction(self._sf) as s:
            a = self._load(s, tenant_id, approval_id)
            res = s.execute(
                update(Approval)
                .where(Approval.approval_id == a.approval_id, Approval.status == "in_use")
                .values(
                    status="consumed", consumed_at=now, result=result, reserved_until=None, version=Approval.version + 1
                )
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return False
            s.refresh(a)
            self._audit_row(s, a, requester, "consumed", {})
        return True

    def release(self, tenant_id: str, approval_id: str, version: int, requester: str, reason: str) -> bool:
        """The reserved call failed before any side effect: ``in_use -> approved`` again, for the identical call
        only. ``version`` is the reservation's: a later re-claim by another call is left alone (False)."""
        with transaction(self._sf) as s:
            a = self._load(s, tenant_id, approval_id)
            res = s.execute(
                update(Approval)
                .where(Approval.approval_id == a.approval_id, Approval.status == "in_use", Approval.version == version)
                .values(status="approved", reserved_until=None, version=version + 1)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return False
            s.refresh(a)
            self._audit_row(s, a, requester, "released", {"reason": reason})
        return True

    def replayable(
        self, tenant_id: str, approval_id: str, server: str, tool: str, arguments: Any, requester: str
    ) -> Approval | None:
        """The consumed approval of exactly this call, with its stored result; None when there is nothing to
        replay (not consumed, no stored result, another tenant's id or a different call)."""
        with self._sf() as s:
            a = s.get(Approval, approval_id)
            if a is None or a.tenant_id != tenant_id or a.status != "consumed" or a.result is None:
                return None
            if not hmac.compare_digest(a.fingerprint, fingerprint(server, tool, arguments, requester)):
                return None
            self._check_intact(a)
            s.expunge(a)
            return a

    def _check_call(self, a: Approval, server: str, tool: str, arguments: Any, requester: str) -> None:
        if not hmac.compare_digest(a.fingerprint, fingerprint(server, tool, arguments, requester)):
            raise ApprovalMismatch(
                f"this call differs from the one approved in {a.approval_id} (server, tool, arguments or requester)",
                "re-send exactly the approved call, or send the new call without approval_id to request approval",
                approval_id=a.approval_id,
            )

    def _check_lapsed(self, a: Approval, now: dt.datetime) -> None:
        if a.reserved_until is not None and a.reserved_until > now:
            wait = max(1, int((a.reserved_until - now).total_seconds()))
            raise ApprovalInUse(
                f"approval {a.approval_id} is in use by a call still running",
                f"wait for that call's answer; if it never comes, re-send the identical call in {wait} s",
                approval_id=a.approval_id,
            )
        if a.expires_at <= now:
            raise ApprovalExpired(
                f"approval {a.approval_id} expired at {a.expires_at.isoformat()} while a call held it",
                "send the call without approval_id to request a new approval",
                approval_id=a.approval_id,
            )
