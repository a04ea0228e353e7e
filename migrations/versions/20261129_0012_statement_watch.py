"""The statement watch: when a requisite was linked to a synced account (older credits are
never matched) and the watch's last word on each trader's bank.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requisites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("statement_status", sqlmodel.AutoString(length=24), nullable=True)
        )
        batch_op.add_column(
            sa.Column("statement_error", sqlmodel.AutoString(length=300), nullable=True)
        )
        batch_op.add_column(
            sa.Column("statement_checked_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.drop_column("statement_checked_at")
        batch_op.drop_column("statement_error")
        batch_op.drop_column("statement_status")
    with op.batch_alter_table("requisites", schema=None) as batch_op:
        batch_op.drop_column("linked_at")
