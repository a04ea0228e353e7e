"""The statement bridge's ground: credits on a trader's linked account and their outcome,
requisites linked to synced accounts, a trader's confirmation policy, order flags.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statement_credits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("requisite_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "confirmed",
                "suggested",
                "near_amount",
                "orphan",
                name="creditoutcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_statement_credits_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["requisite_id"],
            ["requisites.id"],
            name=op.f("fk_statement_credits_requisite_id_requisites"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["bank_transactions.id"],
            name=op.f("fk_statement_credits_transaction_id_bank_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_credits")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_statement_credits_transaction_id")),
    )
    with op.batch_alter_table("statement_credits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_statement_credits_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_statement_credits_requisite_id"), ["requisite_id"], unique=False
        )
    with op.batch_alter_table("requisites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("linked_account_id", sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_requisites_linked_account_id"), ["linked_account_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_requisites_linked_account_id_bank_accounts"),
            "bank_accounts",
            ["linked_account_id"],
            ["id"],
        )
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "statement_policy",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="auto",
            )
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flags", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("flags")
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.drop_column("statement_policy")
    with op.batch_alter_table("requisites", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_requisites_linked_account_id_bank_accounts"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_requisites_linked_account_id"), type_="unique")
        batch_op.drop_column("linked_account_id")
    with op.batch_alter_table("statement_credits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_credits_requisite_id"))
        batch_op.drop_index(batch_op.f("ix_statement_credits_order_id"))
    op.drop_table("statement_credits")
