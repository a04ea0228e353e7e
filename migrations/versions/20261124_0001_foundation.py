"""foundation

Revision ID: 0001
Revises:
Create Date: 2026-11-24 08:06:50.043249
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "support",
                "merchant",
                "trader",
                "connect_user",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("external_client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_email"), ["email"], unique=True)
        batch_op.create_index(batch_op.f("ix_users_role"), ["role"], unique=False)

    op.create_table(
        "merchants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_merchants_owner_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
    )
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchants_owner_user_id"), ["owner_user_id"], unique=False
        )

    op.create_table(
        "stores",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("callback_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("payin_enabled", sa.Boolean(), nullable=False),
        sa.Column("payout_enabled", sa.Boolean(), nullable=False),
        sa.Column("min_amount_minor", sa.Integer(), nullable=False),
        sa.Column("max_amount_minor", sa.Integer(), nullable=False),
        sa.Column("payin_fee_bps", sa.Integer(), nullable=False),
        sa.Column("payout_fee_bps", sa.Integer(), nullable=False),
        sa.Column("payment_deadline_seconds", sa.Integer(), nullable=False),
        sa.Column("trader_deadline_seconds", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("api_key_prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("api_key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "signing_secret_encrypted", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "min_amount_minor <= max_amount_minor", name=op.f("ck_stores_amount_bounds")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_stores_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
    )
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stores_api_key_hash"), ["api_key_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_stores_merchant_id"), ["merchant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stores_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_stores_api_key_hash"))

    op.drop_table("stores")
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchants_owner_user_id"))

    op.drop_table("merchants")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_role"))
        batch_op.drop_index(batch_op.f("ix_users_email"))

    op.drop_table("users")
