"""The turnover report's daily rows: turnover_store_days and turnover_trader_days (per day,
grain, currency and kind: the figures of that day's settle and correction postings, written
with each settlement), and ledger_postings.turnover_rolled_at, which marks the postings the
rows hold, with a partial index of the postings not marked.

Expand only: the previous release writes postings without the mark during a deploy, and
the report reads those from the ledger (through the partial index) beside the rows. The
postings already there are rolled up after the deploy by `python -m
launcher.roll_up_turnover`, in batches; the report is exact meanwhile, only as slow as
before until it has run.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_ledger_postings_unrolled"
UNROLLED = sa.text(
    "turnover_rolled_at IS NULL AND kind IN ('payin_settle', 'payout_settle', 'correction')"
)
# The report's figures as of this migration (a migration never follows the models).
FIGURES = (
    "orders volume fees rewards teamlead_shares profit disputes corrections"
    " corrections_amount corrections_profit"
).split()


def _figures() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in FIGURES]


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "turnover_store_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint(
            "day", "store_id", "currency", "kind", name=op.f("pk_turnover_store_days")
        ),
        if_not_exists=True,
    )
    op.create_table(
        "turnover_trader_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("trader_id", sa.Uuid(), nullable=False),
        sa.Column("teamlead_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint(
            "day",
            "trader_id",
            "teamlead_id",
            "currency",
            "kind",
            name=op.f("pk_turnover_trader_days"),
        ),
        if_not_exists=True,
    )
    op.add_column(
        "ledger_postings",
        sa.Column("turnover_rolled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        if_not_exists=_postgresql(),
    )
    columns = ["created_at", "id"]
    if not _postgresql():
        op.create_index(INDEX, "ledger_postings", columns, sqlite_where=UNROLLED)
        return
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX,
            "ledger_postings",
            columns,
            postgresql_where=UNROLLED,
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    if not _postgresql():
        op.drop_index(INDEX, table_name="ledger_postings")
    else:
        with op.get_context().autocommit_block():
            op.drop_index(
                INDEX, table_name="ledger_postings", postgresql_concurrently=True, if_exists=True
            )
    op.drop_column("ledger_postings", "turnover_rolled_at", if_exists=_postgresql())
    op.drop_table("turnover_trader_days", if_exists=True)
    op.drop_table("turnover_store_days", if_exists=True)
