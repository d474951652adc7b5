"""inbound sync: webhook inbox, webhook secrets, sync conflicts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_inbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=128), nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", JSON, nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("processed_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_webhook_inbox_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_inbox")),
        sa.UniqueConstraint("tenant_id", "system", "delivery_id",
                            name=op.f("uq_webhook_inbox_tenant_id_system_delivery_id")),  # fmt: skip
    )
    op.create_index("ix_webhook_inbox_status_received", "webhook_inbox", ["status", "received_at"])
    op.create_table(
        "webhook_secrets",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("hook", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pending_until", TS, nullable=True),
        sa.Column("secret_ref", sa.String(length=500), nullable=True),
        sa.Column("secret_ciphertext", sa.Text(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_webhook_secrets_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "system", "hook", name=op.f("pk_webhook_secrets")),
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("canonical_id", sa.String(length=36), nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("mcc_value", JSON, nullable=True),
        sa.Column("external_value", JSON, nullable=True),
        sa.Column("external_at", TS, nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolution", JSON, nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_sync_conflicts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    op.create_index("ix_sync_conflicts_tenant_status", "sync_conflicts", ["tenant_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_sync_conflicts_tenant_status", table_name="sync_conflicts")
    op.drop_table("sync_conflicts")
    op.drop_table("webhook_secrets")
    op.drop_index("ix_webhook_inbox_status_received", table_name="webhook_inbox")
    op.drop_table("webhook_inbox")
