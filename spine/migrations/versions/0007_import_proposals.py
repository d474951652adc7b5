"""backfill proposals: existing Workfront/Asana projects and the campaigns they should link to

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "import_proposals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("owner_external_id", sa.String(length=64), nullable=True),
        sa.Column("match_kind", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tasks", JSON, nullable=False),
        sa.Column("flags", JSON, nullable=False),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_import_proposals_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_proposals")),
        sa.UniqueConstraint("tenant_id", "system", "external_id", name=op.f("uq_import_proposals_tenant_id_system_external_id")),
    )
    op.create_index("ix_import_proposals_tenant_status", "import_proposals", ["tenant_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_import_proposals_tenant_status", table_name="import_proposals")
    op.drop_table("import_proposals")
