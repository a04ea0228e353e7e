"""Platform settings an administrator overrides at run time; accounts created with a one-time
password must change it; a pay-in that found no requisite frees its merchant_order_id.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETRYABLE = "failure_reason IS NULL OR failure_reason <> 'no_requisite'"


def upgrade() -> None:
    op.create_table(
        "platform_settings",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_platform_settings_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_platform_settings")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "password_change_required",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_orders_store_merchant_order", type_="unique")
        batch_op.create_index(
            "ux_orders_store_merchant_order",
            ["store_id", "merchant_order_id"],
            unique=True,
            postgresql_where=sa.text(RETRYABLE),
            sqlite_where=sa.text(RETRYABLE),
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ux_orders_store_merchant_order")
        batch_op.create_unique_constraint(
            "uq_orders_store_merchant_order", ["store_id", "merchant_order_id"]
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_change_required")
    op.drop_table("platform_settings")
