"""Deposits and withdrawals: their request rows; holds and callback deliveries that belong
to a withdrawal instead of an order (order_id nullable, a withdrawal_id, exactly one set on
a hold). Currency columns are 8 wide (USDT and friends). A request's `workflow_started_at` is
set once the engine has its workflow; a partial index on the rows still waiting is what the
orphan reconciler reads.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

# The rows whose workflow has not been started yet (a few, briefly).
NOT_STARTED = sa.text("workflow_started_at IS NULL")

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deposits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "owner_kind",
            sa.Enum("trader", "store", name="ownerkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("tx_hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("proof_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "confirmed",
                "credited",
                "rejected",
                name="depositstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("needs_two", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("confirmed_by", sa.Uuid(), nullable=True),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("workflow_started_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_deposits_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by"], ["users.id"], name=op.f("fk_deposits_confirmed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_deposits_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_deposits_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_deposits_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposits")),
        sa.UniqueConstraint("owner_kind", "owner_id", "reference", name="uq_deposits_reference"),
    )
    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deposits_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deposits_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_deposits_status_created", ["status", "created_at"], unique=False)
        batch_op.create_index(
            "ix_deposits_not_started",
            ["created_at"],
            unique=False,
            postgresql_where=NOT_STARTED,
            sqlite_where=NOT_STARTED,
        )

    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "owner_kind",
            sa.Enum("trader", "store", name="ownerkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("destination_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "destination_masked", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column(
            "destination_encrypted", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        ),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("request_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "approved",
                "paid",
                "completed",
                "rejected",
                "cancelled",
                name="withdrawalstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("needs_two", sa.Boolean(), nullable=False),
        sa.Column("first_approved_by", sa.Uuid(), nullable=True),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("paid_by", sa.Uuid(), nullable=True),
        sa.Column("tx_hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("proof_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("escalated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("workflow_started_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_withdrawals_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_withdrawals_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["first_approved_by"], ["users.id"], name=op.f("fk_withdrawals_first_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_withdrawals_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["paid_by"], ["users.id"], name=op.f("fk_withdrawals_paid_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
        sa.UniqueConstraint(
            "owner_kind", "owner_id", "idempotency_key", name="uq_withdrawals_idempotency_key"
        ),
    )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_withdrawals_merchant_id"), ["merchant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_withdrawals_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            "ix_withdrawals_status_created", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_withdrawals_not_started",
            ["created_at"],
            unique=False,
            postgresql_where=NOT_STARTED,
            sqlite_where=NOT_STARTED,
        )

    with op.batch_alter_table("callback_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawal_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("order_id", existing_type=sa.CHAR(length=32), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_callback_deliveries_withdrawal_id"), ["withdrawal_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_callback_deliveries_withdrawal_id_withdrawals"),
            "withdrawals",
            ["withdrawal_id"],
            ["id"],
        )

    with op.batch_alter_table("ledger_holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawal_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("order_id", existing_type=sa.CHAR(length=32), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_ledger_holds_withdrawal_id"), ["withdrawal_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_holds_withdrawal_id_withdrawals"),
            "withdrawals",
            ["withdrawal_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            op.f("ck_ledger_holds_one_reference"),
            sa.text("(order_id IS NULL) <> (withdrawal_id IS NULL)"),
        )


def downgrade() -> None:
    # Withdrawal holds and deliveries have no order to keep: they go with the withdrawals.
    op.execute("DELETE FROM ledger_holds WHERE order_id IS NULL")
    op.execute(
        "DELETE FROM callback_attempts WHERE delivery_id IN "
        "(SELECT id FROM callback_deliveries WHERE order_id IS NULL)"
    )
    op.execute("DELETE FROM callback_deliveries WHERE order_id IS NULL")
    with op.batch_alter_table("ledger_holds", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_holds_one_reference"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_holds_withdrawal_id_withdrawals"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_ledger_holds_withdrawal_id"), type_="unique")
        batch_op.alter_column("order_id", existing_type=sa.CHAR(length=32), nullable=False)
        batch_op.drop_column("withdrawal_id")

    with op.batch_alter_table("callback_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_callback_deliveries_withdrawal_id_withdrawals"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_callback_deliveries_withdrawal_id"))
        batch_op.alter_column("order_id", existing_type=sa.CHAR(length=32), nullable=False)
        batch_op.drop_column("withdrawal_id")

    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index("ix_withdrawals_not_started")
        batch_op.drop_index("ix_withdrawals_status_created")
        batch_op.drop_index(batch_op.f("ix_withdrawals_owner_id"))
        batch_op.drop_index(batch_op.f("ix_withdrawals_merchant_id"))

    op.drop_table("withdrawals")
    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.drop_index("ix_deposits_not_started")
        batch_op.drop_index("ix_deposits_status_created")
        batch_op.drop_index(batch_op.f("ix_deposits_owner_id"))
        batch_op.drop_index(batch_op.f("ix_deposits_merchant_id"))

    op.drop_table("deposits")
