"""Indexes for production size (a million orders): each serves a query a merchant or an
admin runs every minute, found from its plan on a big database (docs/operations.md,
"Indexes at production size").

- orders (store_id, merchant_order_id): the create's duplicate check and the lookups by the
  merchant's order id read every attempt under an id; the partial unique index cannot.
- orders (merchant_id | store_id, kind, created_at, id): the merchant's order pages and CSV
  read their rows in keyset order instead of sorting all of a merchant's orders.
- orders (updated_at) WHERE flagged: the admin's flagged orders (a few) without a scan.
- callback_deliveries (store_id, created_at): the merchant's deliveries, newest first.

On PostgreSQL every index is built CONCURRENTLY, outside the migration's transaction:
a plain CREATE INDEX would block writes to orders for as long as the build takes.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGGED = sa.text("CAST(flags AS VARCHAR) <> 'null'")

# name, table, columns, predicate
INDEXES: list[tuple[str, str, list[str], sa.TextClause | None]] = [
    ("ix_orders_store_merchant_order_id", "orders", ["store_id", "merchant_order_id"], None),
    (
        "ix_orders_merchant_kind_created",
        "orders",
        ["merchant_id", "kind", "created_at", "id"],
        None,
    ),
    ("ix_orders_store_kind_created", "orders", ["store_id", "kind", "created_at", "id"], None),
    ("ix_orders_flagged", "orders", ["updated_at"], FLAGGED),
    (
        "ix_callback_deliveries_store_created",
        "callback_deliveries",
        ["store_id", "created_at"],
        None,
    ),
]


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        for name, table, columns, where in INDEXES:
            op.create_index(name, table, columns, sqlite_where=where)
        return
    with op.get_context().autocommit_block():
        for name, table, columns, where in INDEXES:
            op.create_index(
                name,
                table,
                columns,
                postgresql_where=where,
                postgresql_concurrently=True,
                if_not_exists=True,
            )


def downgrade() -> None:
    if not _postgresql():
        for name, table, _, _ in reversed(INDEXES):
            op.drop_index(name, table_name=table)
        return
    with op.get_context().autocommit_block():
        for name, table, _, _ in reversed(INDEXES):
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
