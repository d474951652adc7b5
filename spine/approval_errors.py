"""The typed errors of approvals: each names the field (``approval_id`` by default) and the fix."""

from __future__ import annotations

from spine.errors import NotFoundError, SpineError


class ApprovalError(SpineError):
    """Base of every approval error; the message says what to do next."""

    code = "approval_error"

    def __init__(self, message: str, fix: str, field: str = "approval_id", approval_id: str | None = None):
        self.approval_id = approval_id
        super().__init__(field, message, fix)


class ApprovalNotFound(ApprovalError, NotFoundError):
    code = "approval_not_found"

    def __init__(self, approval_id: str) -> None:
        self.entity, self.entity_id = "approval", approval_id
        ApprovalError.__init__(
            self, f"no approval {approval_id!r} in this tenant", "pass the approval_id you were given",
            approval_id=approval_id,
        )  # fmt: skip


class ApprovalExpired(ApprovalError):
    code = "approval_expired"


class ApprovalNotPending(ApprovalError):
    code = "approval_not_pending"


class SelfApprovalForbidden(ApprovalError):
    code = "self_approval_forbidden"


class ApproverNotInGroup(ApprovalError):
    code = "approver_not_in_group"


class ApprovalConflict(ApprovalError):
    code = "approval_conflict"


class ApprovalMismatch(ApprovalError):
    code = "approval_mismatch"


class ApprovalNotResolved(ApprovalError):
    code = "approval_not_resolved"


class ApprovalAlreadyUsed(ApprovalError):
    code = "approval_already_used"


class ApprovalRejected(ApprovalError):
    code = "approval_rejected"


class ApprovalPreviouslyRejected(ApprovalError):
    code = "approval_previously_rejected"


class ApprovalTampered(ApprovalError):
    code = "approval_tampered"


class ApprovalInUse(ApprovalError):
    """Another call holds the approval right now (its reservation has not lapsed)."""

    code = "approval_in_use"
