"""Pending actions: an action answered 202 is kept until Temporal has applied its update, so
the reconciler can send it again (same update id) when a Temporal restart lost it before a
worker accepted it. A partial index on the unresolved rows is what the reconciler reads.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

UNRESOLVED = sa.text("resolved_at IS NULL")

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("update_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("update_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resends", sa.Integer(), nullable=False),
        sa.Column("resolved_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_actions")),
        sa.UniqueConstraint("workflow_id", "update_id", name="uq_pending_actions_update"),
    )
    with op.batch_alter_table("pending_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pending_actions_unresolved",
            ["created_at"],
            unique=False,
            postgresql_where=UNRESOLVED,
            sqlite_where=UNRESOLVED,
        )


def downgrade() -> None:
    with op.batch_alter_table("pending_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_actions_unresolved")
    op.drop_table("pending_actions")
