"""approval workflow: edits, delegation, escalation bookkeeping; notification channels and outbox

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"  # chained after h-webcore's 0011 (merged in this branch)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("original_arguments", JSON, nullable=True))
        batch.add_column(sa.Column("edits", JSON, nullable=True))
        batch.add_column(sa.Column("on_behalf_of", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("notified_at", TS, nullable=True))
        batch.add_column(sa.Column("escalated_at", TS, nullable=True))
        batch.add_column(sa.Column("escalated_to", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("expiry_notified_at", TS, nullable=True))
    op.create_table(
        "approval_delegations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("delegator", sa.String(length=128), nullable=False),
        sa.Column("delegate", sa.String(length=128), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_approval_delegations_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_delegations")),
    )
    op.create_index(op.f("ix_approval_delegations_tenant_id"), "approval_delegations", ["tenant_id"])
    op.create_index("ix_approval_delegations_tenant_delegate", "approval_delegations", ["tenant_id", "delegate"])
    op.create_table(
        "notification_channels",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("secret_ref", sa.String(length=500), nullable=True),
        sa.Column("secret_ciphertext", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('slack', 'email')", name=op.f("ck_notification_channels_kind")),
        sa.PrimaryKeyConstraint("tenant_id", "name", name=op.f("pk_notification_channels")),
    )
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("approval_id", sa.String(length=36), nullable=True),
        sa.Column("recipients", JSON, nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f("ck_notification_outbox_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("tenant_id", "dedupe_key", name="uq_notification_outbox_dedupe"),
    )
    op.create_index("ix_notification_outbox_status_due", "notification_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_notification_outbox_status_due", table_name="notification_outbox")
    op.drop_table("notification_outbox")
    op.drop_table("notification_channels")
    op.drop_index("ix_approval_delegations_tenant_delegate", table_name="approval_delegations")
    op.drop_index(op.f("ix_approval_delegations_tenant_id"), table_name="approval_delegations")
    op.drop_table("approval_delegations")
    with op.batch_alter_table("approvals") as batch:
        for col in ("expiry_notified_at", "escalated_to", "escalated_at", "notified_at", "on_behalf_of", "edits",
                    "original_arguments"):  # fmt: skip
            batch.drop_column(col)
