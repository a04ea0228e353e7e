"""Worker heartbeats (readiness sees a dead worker within seconds), and a partial index on
the deliveries still waiting for their first attempt (the reconciler's sweep of not_started
callbacks reads only those).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = sa.text("status = 'pending' AND attempts = 0")


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=200), nullable=False),
        sa.Column("task_queue", sa.String(length=200), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeats")),
    )
    op.create_index(op.f("ix_worker_heartbeats_task_queue"), "worker_heartbeats", ["task_queue"])
    op.create_index(
        "ix_callback_deliveries_waiting",
        "callback_deliveries",
        ["created_at"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_callback_deliveries_waiting", table_name="callback_deliveries")
    op.drop_index(op.f("ix_worker_heartbeats_task_queue"), table_name="worker_heartbeats")
    op.drop_table("worker_heartbeats")
