"""Governance tables: pending approvals, remembered rejections and the hash-chained audit log.

``tenant_id`` here is a plain indexed string, deliberately without a foreign key to ``tenants``: approvals
and audit rows must be writable (and the audit chain verifiable) independently of the tenant directory, and
an audit row must outlive the tenant it names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, JSONType, UTCDateTime, utcnow

APPROVAL_STATUSES = ("pending", "approved", "in_use", "rejected", "consumed", "expired")
# The hash a chain's first row links to.
GENESIS_HASH = "0" * 64


class Approval(Base):
    """A tool call held back until someone in ``required_group`` (not the requester) approves it."""

    __tablename__ = "approvals"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'in_use', 'rejected', 'consumed', 'expired')",
            name="status",
        ),
        Index("ix_approvals_tenant_status", "tenant_id", "status"),
        # At most one open request per call: a concurrent duplicate request fails here and re-reads.
        Index(
            "ux_approvals_pending_fingerprint",
            "tenant_id",
            "fingerprint",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    approval_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    server: Mapped[str] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(128))
    # Canonical form (spine.fingerprint.canonicalize) of the held-back call's arguments.
    arguments: Mapped[Any] = mapped_column(JSONType)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    requester: Mapped[str] = mapped_column(String(128))
    required_group: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    rule_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    consumed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Policy version (PolicyEngine.version) the approval was asked for under; a different one re-checks the call.
    policy_version: Mapped[str | None] = mapped_column(String(64))
    # While in_use: until when the call holding it owns it; after that the identical call may re-claim it.
    reserved_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Once consumed: the approved call's result (JSON), returned to an identical re-send instead of re-running.
    result: Mapped[Any] = mapped_column(JSONType, nullable=True)
    # Bumped by every status change; conditional UPDATEs on it make concurrent resolvers/consumers race safely.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Approve with edits: the call as requested (``arguments`` then holds the edited, approved call) and the diff.
    original_arguments: Mapped[Any] = mapped_column(JSONType, nullable=True)
    edits: Mapped[Any] = mapped_column(JSONType, nullable=True)
    # The absent approver whose authority a delegate used to resolve it (spine.approval_delegations).
    on_behalf_of: Mapped[str | None] = mapped_column(String(128))
    # Sweep bookkeeping (spine.approval_sweep): approvers notified, next group up told, requester told of expiry.
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_to: Mapped[str | None] = mapped_column(String(64))
    expiry_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def approval_required_result(self) -> dict[str, Any]:
        """The structured, non-error tool result telling the caller that this call waits for approval."""
        return {
            "status": "approval_required",
            "approval_id": self.approval_id,
            "required_group": self.required_group,
            "expires_at": self.expires_at.isoformat(),
            "reason": self.reason,
        }


class RejectedFingerprint(Base):
    """A call (by fingerprint) that an approver rejected, so it is not asked again in a loop."""

    __tablename__ = "rejected_fingerprints"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    approval_id: Mapped[str] = mapped_column(String(36))
    rejected_by: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    rejected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One row of the global audit chain; ``hash`` = HMAC-SHA-256 under the audit key ``key_id`` (legacy rows,
    ``key_id`` NULL: plain SHA-256) of prev_hash + canonical JSON of the row."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_seq", "tenant_id", "seq"),)

    # Assigned by the appender under the chain lock (not a database sequence): gapless even after rollbacks,
    # so a gap always means a deleted row.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    server: Mapped[str] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(32))
    rule_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    approval_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # Masked by the caller: never PII.
    detail: Mapped[Any] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Which audit key hashed the row (spine.audit.key_id); NULL: an unkeyed legacy row (seq <= legacy_until).
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditChainHead(Base):
    """The single row (id 1) naming the chain's last seq and hash: the append lock and a tail-deletion check."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Rows up to this seq were written before the chain was keyed (migration 0003) and may be unkeyed.
    legacy_until: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # HMAC of (last_seq, last_hash, legacy_until) under the audit key: rewriting the head needs the key.
    mac: Mapped[str | None] = mapped_column(String(64))
