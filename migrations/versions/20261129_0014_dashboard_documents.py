"""Each Connect user's dashboard as one precomputed document (`user_dashboards`), rewritten
whenever what it shows changes. No backfill: a user without a document gets one built (and
stored) on their first read.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_dashboards",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("stale_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_dashboards_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_dashboards")),
    )


def downgrade() -> None:
    op.drop_table("user_dashboards")
