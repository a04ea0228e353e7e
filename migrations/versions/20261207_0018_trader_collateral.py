"""Trader collateral: the security deposit frozen on a trader's ledger account (the amount in
force, and the administrator's own value where one is set), and why and since when the
platform set a trader offline.

Existing accounts freeze nothing and no trader has a reason, so every row keeps its meaning.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("frozen_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("security_deposit_minor", sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_ledger_accounts_frozen_non_negative"), "frozen_minor >= 0"
        )
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("offline_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(sa.Column("offline_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.drop_column("offline_since")
        batch_op.drop_column("offline_reason")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_accounts_frozen_non_negative"), type_="check")
        batch_op.drop_column("security_deposit_minor")
        batch_op.drop_column("frozen_minor")
