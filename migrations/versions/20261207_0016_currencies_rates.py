"""Currencies and rates: codes up to 8 characters (USDT, 6 decimals, seeded), a settlement
currency per store and per trader (NULL: the order's own), the platform's FX position
accounts (one per currency pair and side), exchange rates, and the rates an order fixes.

Every existing balance, posting and order keeps its meaning: the new columns are NULL.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
OLD_PLATFORM = sa.text("owner_id IS NULL")
PLATFORM = sa.text("owner_id IS NULL AND counter_currency IS NULL")
FX = sa.text("counter_currency IS NOT NULL")
# Tables whose `currency` column names a row of `currencies`.
CODE_COLUMNS = (("ledger_accounts", False), ("orders", False), ("requisites", False))


def _widen(table: str, column: str, old: int, new: int, nullable: bool = False) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(
            column,
            existing_type=String(length=old),
            type_=String(length=new),
            existing_nullable=nullable,
        )


def _code_column(table: str, name: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column(name, String(length=8), nullable=True))
        batch_op.create_foreign_key(
            op.f(f"fk_{table}_{name}_currencies"), "currencies", [name], ["code"]
        )


def _platform_index(batch_op: Any, where: sa.TextClause) -> None:
    """One platform account per (kind, currency): for every platform account before this
    revision, for those that are not FX accounts from it on."""
    batch_op.drop_index("ux_ledger_accounts_platform")
    batch_op.create_index(
        "ux_ledger_accounts_platform",
        ["kind", "currency"],
        unique=True,
        postgresql_where=where,
        sqlite_where=where,
    )


def upgrade() -> None:
    _widen("currencies", "code", 3, 8)
    for table, nullable in (*CODE_COLUMNS, ("stores", False)):
        _widen(table, "currency", 3, 8, nullable)
    currencies = sa.table(
        "currencies",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("minor_units", sa.Integer),
        sa.column("is_active", sa.Boolean),
    )
    op.bulk_insert(
        currencies, [{"code": "USDT", "name": "Tether USD", "minor_units": 6, "is_active": True}]
    )
    _code_column("stores", "settlement_currency")
    _code_column("traders", "settlement_currency")
    _code_column("ledger_accounts", "counter_currency")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        _platform_index(batch_op, PLATFORM)
        batch_op.create_index(
            "ux_ledger_accounts_fx",
            ["kind", "currency", "counter_currency"],
            unique=True,
            postgresql_where=FX,
            sqlite_where=FX,
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for party in ("store", "trader"):
            batch_op.add_column(sa.Column(f"{party}_currency", String(length=8), nullable=True))
            batch_op.add_column(sa.Column(f"{party}_rate", String(length=40), nullable=True))
            batch_op.add_column(sa.Column(f"{party}_amount_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("trader_rates", sa.JSON(), nullable=True))
    op.create_table(
        "exchange_rates",
        sa.Column("base", String(length=8), nullable=False),
        sa.Column("quote", String(length=8), nullable=False),
        sa.Column("buy", String(length=40), nullable=False),
        sa.Column("sell", String(length=40), nullable=False),
        sa.Column("source", String(length=16), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_age_s", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["base"], ["currencies.code"], name=op.f("fk_exchange_rates_base_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["quote"], ["currencies.code"], name=op.f("fk_exchange_rates_quote_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_exchange_rates_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("base", "quote", name=op.f("pk_exchange_rates")),
    )


def downgrade() -> None:
    op.drop_table("exchange_rates")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("trader_rates")
        for party in ("trader", "store"):
            for suffix in ("amount_minor", "rate", "currency"):
                batch_op.drop_column(f"{party}_{suffix}")
    # FX accounts (and their entries) exist only from this revision on: a downgrade with FX
    # postings would lose money, so it refuses instead.
    conn = op.get_bind()
    fx = conn.execute(
        sa.text("SELECT COUNT(*) FROM ledger_accounts WHERE counter_currency IS NOT NULL")
    ).scalar()
    if fx:
        raise RuntimeError("FX accounts exist: settle them before downgrading below 0016")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_index("ux_ledger_accounts_fx")
        _platform_index(batch_op, OLD_PLATFORM)
    for table in ("ledger_accounts", "traders", "stores"):
        name = "counter_currency" if table == "ledger_accounts" else "settlement_currency"
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"fk_{table}_{name}_currencies"), type_="foreignkey")
            batch_op.drop_column(name)
    op.execute("DELETE FROM currencies WHERE code = 'USDT'")
    for table, nullable in (*CODE_COLUMNS, ("stores", False)):
        _widen(table, "currency", 8, 3, nullable)
    _widen("currencies", "code", 8, 3)
