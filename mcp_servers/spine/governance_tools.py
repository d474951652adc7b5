"""Spine server tools for approvals (list, get, resolve) and the audit log (read)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import MultilineText, ToolDef, ToolInput, Uuid
from spine.approvals import ApprovalStore
from spine.audit import AuditLog


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    approval_id: str
    server: str
    tool: str
    arguments: Any = Field(description="The exact arguments that will run once approved.")
    requester: str
    required_group: str
    reason: str
    rule_ids: list[str]
    status: Literal["pending", "approved", "in_use", "rejected", "consumed", "expired"] = Field(
        description="in_use: the approved call is running now (its answer follows; re-send it to get its result)."
    )
    created_at: dt.datetime
    expires_at: dt.datetime
    resolved_by: str | None
    resolved_at: dt.datetime | None
    note: str | None
    edits: list[dict[str, Any]] | None = Field(
        default=None, description="Approved with edits: what the approver changed (arguments is the edited call)."
    )
    original_arguments: Any = Field(default=None, description="Approved with edits: the call as requested.")
    on_behalf_of: str | None = Field(default=None, description="The absent approver a delegate acted for.")


class ApprovalList(BaseModel):
    approvals: list[ApprovalOut]


class ListApprovalsArgs(ToolInput):
    status: Literal["pending", "approved", "in_use", "rejected", "consumed", "expired"] | None = Field(
        default="pending", description="Only approvals in this status (default pending); null for every status."
    )
    group: str | None = Field(
        default=None,
        max_length=64,
        description="Only approvals this group must resolve: marketing-leadership | vp (exact match).",
    )


class GetApprovalArgs(ToolInput):
    control_fields: ClassVar[frozenset[str]] = frozenset()  # approval_id names the approval to read
    approval_id: Uuid = Field(description="The approval's id (lowercase UUID).")


class ResolveApprovalArgs(ToolInput):
    control_fields: ClassVar[frozenset[str]] = frozenset()  # approval_id names the approval to resolve
    approval_id: Uuid = Field(description="The pending approval's id (lowercase UUID).")
    decision: Literal["approve", "reject"]
    note: MultilineText | None = Field(default=None, max_length=2000, description="Kept with the approval.")


class AuditTailArgs(ToolInput):
    limit: int = Field(default=20, ge=1, le=200, description="How many of the newest rows (1-200).")


class AuditRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: dt.datetime
    actor: str
    server: str
    tool: str
    decision: str
    rule_ids: list[str]
    approval_id: str | None
    fingerprint: str | None


class AuditTail(BaseModel):
    rows: list[AuditRow]


def governance_tools(approvals: ApprovalStore, audit: AuditLog) -> list[ToolDef]:
    """Approval and audit tools; the caller's tenant scopes every read."""

    def list_approvals(call: CallContext, a: ListApprovalsArgs) -> ApprovalList:
        """Approvals of your tenant, oldest first; by default only the pending ones. Read-only: a pending or
        approved approval past expires_at is listed as expired (and only under status expired).

        status pending (default) | approved | in_use (its call is running) | rejected | consumed | expired, or
        null for all; group: the approver group that must resolve them (marketing-leadership | vp). No limit
        or paging. Each:
        approval_id (lowercase UUID), server, tool, arguments (the exact call that runs once approved),
        requester, required_group, reason, rule_ids, status, created_at, expires_at (72 h after the request
        by default), resolved_by, resolved_at, note.
        """
        rows = approvals.list(call.principal.tenant_id, status=a.status, group=a.group)
        return ApprovalList(approvals=[ApprovalOut.model_validate(r) for r in rows])

    def get_approval(call: CallContext, a: GetApprovalArgs) -> ApprovalOut:
        """One approval of your tenant (approval_id: lowercase UUID, e.g. from an 'approval_required'
        answer or list_approvals). Read-only.

        Returns the held call (server, tool, exact arguments), requester, required_group, reason, rule_ids,
        status (pending | approved | rejected | consumed | expired), created_at, expires_at, resolved_by,
        resolved_at and note; a pending or approved approval past expires_at is shown as expired.
        Error approval_not_found: no such approval in your tenant.
        """
        return ApprovalOut.model_validate(approvals.get(call.principal.tenant_id, a.approval_id))

    def resolve_approval(call: CallContext, a: ResolveApprovalArgs) -> ApprovalOut:
        """Approve or reject a pending approval as the caller (approval_id: lowercase UUID).

        Only marketing-leadership or vp may call it, and only a member of the approval's required_group (a
        vp may also resolve marketing-leadership approvals) who is not its requester may resolve it. Side
        effects: status becomes approved or rejected, resolved_by / resolved_at / note are stored, and an
        audit row is written. Approved: the requester may re-send the identical call once with approval_id
        before expires_at. Rejected: the same call by the same requester is refused from then on. Errors:
        approval_not_pending (already resolved: nothing to do), approval_expired, approver_not_in_group,
        self_approval_forbidden, approval_not_found.
        """
        p = call.principal
        row = approvals.resolve(p.tenant_id, a.approval_id, p.user_id, p.groups, a.decision, a.note)
        return ApprovalOut.model_validate(row)

    def audit_tail(call: CallContext, a: AuditTailArgs) -> AuditTail:
        """Your tenant's newest audit rows (limit 1-200, default 20), returned oldest first. Read-only.

        Only marketing-leadership or vp may call it. Each row: seq (position in the hash chain), at (UTC),
        actor, server, tool, decision (allow | deny | require_approval | invalid | failed | blocked |
        redacted | executed, and approved | rejected | consumed | expired for approvals), rule_ids, approval_id, and
        fingerprint (SHA-256 of server, tool, arguments and caller; null for invalid input). Argument values
        are not shown.
        """
        rows = audit.tail(call.principal.tenant_id, limit=a.limit)
        return AuditTail(rows=[AuditRow.model_validate(r) for r in rows])

    return [
        ToolDef("list_approvals", ListApprovalsArgs, ApprovalList, list_approvals, read_only=True, idempotent=True),
        ToolDef("get_approval", GetApprovalArgs, ApprovalOut, get_approval, read_only=True, idempotent=True),
        ToolDef("resolve_approval", ResolveApprovalArgs, ApprovalOut, resolve_approval, read_only=False),
        ToolDef("audit_tail", AuditTailArgs, AuditTail, audit_tail, read_only=True, idempotent=True),
    ]
