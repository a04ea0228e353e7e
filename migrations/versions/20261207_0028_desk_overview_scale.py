"""The trader desk and the admin overview at production size.

- orders (trader_id, created_at) WHERE the order is open (awaiting payment, claimed,
  disputed): the desk's open orders.
- statistics on `CAST(flags AS VARCHAR)` (PostgreSQL): without them the planner guesses
  that 99.5% of orders are flagged, and counts the flagged ones (the overview, through the
  partial `ix_orders_flagged`) with a parallel plan whose workers take 8 ms to start; with
  them it reads the few rows of the partial index.

`GET /api/trader/orders` reads one trader's open pay-ins, oldest first. Through
`ix_orders_trader_id` it fetched every order the trader ever had (thousands in a year) to
keep the few open ones; the partial index holds only open orders, already in the desk's
order (docs/operations.md, "Indexes at production size").

On PostgreSQL the index is built CONCURRENTLY, outside the migration's transaction (a plain
CREATE INDEX would block writes to orders while it builds).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME, TABLE, COLUMNS = "ix_orders_trader_open", "orders", ["trader_id", "created_at"]
OPEN = sa.text("status IN ('awaiting_payment', 'payment_claimed', 'disputed')")
# The expression of the flagged orders' predicate (models.orders.FLAGGED), for ANALYZE.
STATISTICS = "st_orders_flags_text"


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        op.create_index(NAME, TABLE, COLUMNS, sqlite_where=OPEN)
        return
    with op.get_context().autocommit_block():
        op.create_index(
            NAME,
            TABLE,
            COLUMNS,
            postgresql_where=OPEN,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        # Takes effect at the table's next ANALYZE (autovacuum's, or run one).
        op.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON (CAST(flags AS VARCHAR)) FROM orders"
        )


def downgrade() -> None:
    if not _postgresql():
        op.drop_index(NAME, table_name=TABLE)
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
        op.drop_index(NAME, table_name=TABLE, postgresql_concurrently=True, if_exists=True)
