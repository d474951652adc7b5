"""per-tenant connections to Workfront and Asana (secrets by reference or encrypted, never in clear)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("workspace_gid", sa.String(length=32), nullable=True),
        sa.Column("secret_ref", sa.String(length=500), nullable=True),
        sa.Column("secret_ciphertext", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_connections_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "system", name=op.f("pk_connections")),
    )


def downgrade() -> None:
    op.drop_table("connections")
