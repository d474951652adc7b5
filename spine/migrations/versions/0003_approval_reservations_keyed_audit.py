"""approval reservations, stored results and policy versions; keyed audit chain

Approvals gain status ``in_use`` (reserved by a running call until ``reserved_until``), the approved call's
stored ``result`` (replayed to an identical re-send) and the ``policy_version`` they were asked under.
The audit chain becomes keyed (HMAC): rows get ``key_id`` (NULL for the unkeyed rows already stored), and the
chain head gets ``legacy_until`` (the last seq written before this migration: unkeyed rows are accepted up to
it and nowhere else) and ``mac`` (HMAC of the head under the audit key; NULL until the first keyed append or
``mcc audit checkpoint`` seals it). Existing rows keep their hashes and verify as legacy rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = "status IN ('pending', 'approved', 'in_use', 'rejected', 'consumed', 'expired')"
_OLD = "status IN ('pending', 'approved', 'rejected', 'consumed', 'expired')"
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_approvals_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_approvals_status"), _NEW)
        batch_op.add_column(sa.Column("policy_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reserved_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("result", _JSON, nullable=True))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legacy_until", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    # Everything stored so far was hashed without a key: mark it legacy.
    op.execute("UPDATE audit_chain_head SET legacy_until = last_seq")


def downgrade() -> None:
    op.execute("UPDATE approvals SET status = 'approved', reserved_until = NULL WHERE status = 'in_use'")
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.drop_column("mac")
        batch_op.drop_column("legacy_until")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_column("result")
        batch_op.drop_column("reserved_until")
        batch_op.drop_column("policy_version")
        batch_op.drop_constraint(op.f("ck_approvals_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_approvals_status"), _OLD)
