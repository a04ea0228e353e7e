"""Orders failed as `not_started` (the orphan reconciler) free their merchant_order_id, as
orders that never held money do.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_RETRYABLE = (
    "failure_reason IS NULL OR failure_reason NOT IN ('no_requisite', 'insufficient_balance')"
)
RETRYABLE = (
    "failure_reason IS NULL OR failure_reason NOT IN "
    "('no_requisite', 'insufficient_balance', 'not_started')"
)


def _unique_merchant_order(where: str) -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ux_orders_store_merchant_order")
        batch_op.create_index(
            "ux_orders_store_merchant_order",
            ["store_id", "merchant_order_id"],
            unique=True,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def upgrade() -> None:
    _unique_merchant_order(RETRYABLE)


def downgrade() -> None:
    _unique_merchant_order(OLD_RETRYABLE)
