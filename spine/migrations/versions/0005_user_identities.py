"""users carry their Workfront user id and Asana user gid (the identity map)

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-07 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a constraint to an existing table without copying it.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("workfront_user_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("asana_user_gid", sa.String(length=32), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_users_tenant_id_workfront_user_id"), ["tenant_id", "workfront_user_id"]
        )
        batch.create_unique_constraint(op.f("uq_users_tenant_id_asana_user_gid"), ["tenant_id", "asana_user_gid"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_tenant_id_asana_user_gid"), type_="unique")
        batch.drop_constraint(op.f("uq_users_tenant_id_workfront_user_id"), type_="unique")
        batch.drop_column("asana_user_gid")
        batch.drop_column("workfront_user_id")
