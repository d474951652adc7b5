"""Spine server tools for approvals (list, get, resolve) and the audit log (read)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ToolDef, ToolInput
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
    status: Literal["pending", "approved", "rejected", "consumed", "expired"]
    created_at: dt.datetime
    expires_at: dt.datetime
    resolved_by: str | None
    resolved_at: dt.datetime | None
    note: str | None


class ApprovalList(BaseModel):
    approvals: list[ApprovalOut]


class ListApprovalsArgs(ToolInput):
    status: Literal["pending", "approved", "rejected", "consumed", "expired"] | None = "pending"
    group: str | None = Field(default=None, max_length=64, description="Only approvals this group must resolve.")


class GetApprovalArgs(ToolInput):
    approval_id_to_get: str = Field(pattern=r"^[0-9a-f-]{36}$", description="The approval's id.")


class ResolveApprovalArgs(ToolInput):
    approval_id_to_resolve: str = Field(pattern=r"^[0-9a-f-]{36}$", description="The pending approval's id.")
    decision: Literal["approve", "reject"]
    note: str | None = Field(default=None, max_length=2000, description="Kept with the approval.")


class AuditTailArgs(ToolInput):
    limit: int = Field(default=20, ge=1, le=200)


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

    async def list_approvals(call: CallContext, a: ListApprovalsArgs) -> ApprovalList:
        """Approvals of the caller's tenant (default: pending), optionally for one approver group. Read-only."""
        rows = approvals.list(call.principal.tenant_id, status=a.status, group=a.group)
        return ApprovalList(approvals=[ApprovalOut.model_validate(r) for r in rows])

    async def get_approval(call: CallContext, a: GetApprovalArgs) -> ApprovalOut:
        """One approval: the call it holds, who asked, which group must resolve it, status, expiry. Read-only."""
        return ApprovalOut.model_validate(approvals.get(call.principal.tenant_id, a.approval_id_to_get))

    async def resolve_approval(call: CallContext, a: ResolveApprovalArgs) -> ApprovalOut:
        """Approve or reject a pending approval as the caller.

        Only a member of the required group (a vp may also resolve marketing-leadership approvals) who is not
        the requester may resolve it; expired approvals cannot be approved. Side effect: the status changes
        and the note is kept; an approved call may then be re-sent once by its requester with approval_id.
        """
        p = call.principal
        row = approvals.resolve(p.tenant_id, a.approval_id_to_resolve, p.user_id, p.groups, a.decision, a.note)
        return ApprovalOut.model_validate(row)

    async def audit_tail(call: CallContext, a: AuditTailArgs) -> AuditTail:
        """The caller tenant's most recent audit rows (decisions and executed writes), oldest first. Read-only."""
        rows = audit.tail(call.principal.tenant_id, limit=a.limit)
        return AuditTail(rows=[AuditRow.model_validate(r) for r in rows])

    return [
        ToolDef("list_approvals", ListApprovalsArgs, ApprovalList, list_approvals, read_only=True, idempotent=True),
        ToolDef("get_approval", GetApprovalArgs, ApprovalOut, get_approval, read_only=True, idempotent=True),
        ToolDef("resolve_approval", ResolveApprovalArgs, ApprovalOut, resolve_approval, read_only=False),
        ToolDef("audit_tail", AuditTailArgs, AuditTail, audit_tail, read_only=True, idempotent=True),
    ]
