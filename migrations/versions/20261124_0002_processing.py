"""processing: traders, requisites, reference data, orders, audit, ledger, receipts, callbacks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Reference data every deployment starts with; admins add more through the API.
CURRENCIES = [("RUB", "Russian rouble", 2), ("USD", "US dollar", 2), ("EUR", "Euro", 2)]
PAYMENT_METHODS = [
    ("card", "Card to card"),
    ("sbp", "Fast payments (phone)"),
    ("account", "Account"),
]
BANKS = [("sber", "Sberbank"), ("tbank", "T-Bank"), ("alfa", "Alfa-Bank"), ("vtb", "VTB")]


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_banks")),
    )
    op.create_table(
        "currencies",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("minor_units", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_currencies")),
    )
    op.create_table(
        "payment_methods",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_payment_methods")),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "trader",
                "store",
                "platform_profit",
                "platform_funding",
                name="accountkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("held_minor", sa.BigInteger(), nullable=False),
        sa.Column("allow_negative", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "allow_negative OR balance_minor - held_minor >= 0",
            name=op.f("ck_ledger_accounts_available_non_negative"),
        ),
        sa.CheckConstraint("held_minor >= 0", name=op.f("ck_ledger_accounts_held_non_negative")),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_ledger_accounts_currency_currencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("kind", "owner_id", "currency", name="uq_ledger_accounts_owner"),
    )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_accounts_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "traders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("is_online", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("payin_enabled", sa.Boolean(), nullable=False),
        sa.Column("payout_enabled", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("payin_reward_bps", sa.Integer(), nullable=False),
        sa.Column("payout_reward_bps", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_traders_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traders")),
    )
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_traders_user_id"), ["user_id"], unique=True)

    op.create_table(
        "requisites",
        sa.Column("min_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("max_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("window_turnover_limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("daily_turnover_limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("monthly_turnover_limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("daily_count_limit", sa.Integer(), nullable=True),
        sa.Column("monthly_count_limit", sa.Integer(), nullable=True),
        sa.Column("max_open_orders", sa.Integer(), nullable=True),
        sa.Column("cooldown_seconds", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trader_id", sa.Uuid(), nullable=False),
        sa.Column("number_encrypted", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("number_last4", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("number_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("holder_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("payment_method", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("payin_enabled", sa.Boolean(), nullable=False),
        sa.Column("payout_enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "blocked",
                name="requisitestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "min_amount_minor <= max_amount_minor", name=op.f("ck_requisites_amount_bounds")
        ),
        sa.ForeignKeyConstraint(
            ["bank_code"], ["banks.code"], name=op.f("fk_requisites_bank_code_banks")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_requisites_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["payment_method"],
            ["payment_methods.code"],
            name=op.f("fk_requisites_payment_method_payment_methods"),
        ),
        sa.ForeignKeyConstraint(
            ["trader_id"], ["traders.id"], name=op.f("fk_requisites_trader_id_traders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requisites")),
        sa.UniqueConstraint("number_hash", name=op.f("uq_requisites_number_hash")),
    )
    with op.batch_alter_table("requisites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_requisites_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_requisites_trader_id"), ["trader_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "merchant_order_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False
        ),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("request_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requested_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("payment_method", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("callback_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "created",
                "awaiting_payment",
                "payment_claimed",
                "completed",
                "failed",
                "expired",
                "cancelled",
                "disputed",
                name="payinstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("failure_reason", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("match_rejections", sa.JSON(), nullable=True),
        sa.Column("merchant_fee_bps", sa.Integer(), nullable=True),
        sa.Column("trader_reward_bps", sa.Integer(), nullable=True),
        sa.Column("fee_minor", sa.BigInteger(), nullable=True),
        sa.Column("reward_minor", sa.BigInteger(), nullable=True),
        sa.Column("requisite_id", sa.Uuid(), nullable=True),
        sa.Column("trader_id", sa.Uuid(), nullable=True),
        sa.Column("payment_deadline_seconds", sa.Integer(), nullable=False),
        sa.Column("trader_deadline_seconds", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trader_deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_orders_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_orders_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["requisite_id"], ["requisites.id"], name=op.f("fk_orders_requisite_id_requisites")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_orders_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["trader_id"], ["traders.id"], name=op.f("fk_orders_trader_id_traders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("store_id", "idempotency_key", name="uq_orders_store_idempotency_key"),
        sa.UniqueConstraint("store_id", "merchant_order_id", name="uq_orders_store_merchant_order"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_requisite_id"), ["requisite_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_store_id"), ["store_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_trader_id"), ["trader_id"], unique=False)
        batch_op.create_index(
            "ux_orders_open_requisite_amount",
            ["requisite_id", "amount_minor"],
            unique=True,
            postgresql_where=sa.text(
                "status IN ('awaiting_payment', 'payment_claimed', 'disputed')"
            ),
            sqlite_where=sa.text("status IN ('awaiting_payment', 'payment_claimed', 'disputed')"),
        )

    op.create_table(
        "callback_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                "skipped",
                name="deliverystatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_callback_deliveries_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_callback_deliveries_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_deliveries")),
        sa.UniqueConstraint("event_id", name=op.f("uq_callback_deliveries_event_id")),
    )
    with op.batch_alter_table("callback_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_deliveries_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_callback_deliveries_store_id"), ["store_id"], unique=False
        )

    op.create_table(
        "ledger_holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "posted", "voided", name="holdstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_ledger_holds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_holds_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ledger_holds_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_holds")),
        sa.UniqueConstraint("order_id", name=op.f("uq_ledger_holds_order_id")),
    )
    with op.batch_alter_table("ledger_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_holds_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("memo", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ledger_postings_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_postings_idempotency_key")),
    )
    with op.batch_alter_table("ledger_postings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_postings_order_id"), ["order_id"], unique=False)

    op.create_table(
        "order_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column(
            "actor_type",
            sa.Enum(
                "system",
                "merchant",
                "customer",
                "trader",
                "admin",
                name="actortype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "from_status",
            sa.Enum(
                "created",
                "awaiting_payment",
                "payment_claimed",
                "completed",
                "failed",
                "expired",
                "cancelled",
                "disputed",
                name="payinstatus",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "created",
                "awaiting_payment",
                "payment_claimed",
                "completed",
                "failed",
                "expired",
                "cancelled",
                "disputed",
                name="payinstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_events_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
        sa.UniqueConstraint("order_id", "to_status", name="uq_order_events_order_to_status"),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_events_order_id"), ["order_id"], unique=False)

    op.create_table(
        "receipts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("s3_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "uploaded_by_type",
            sa.Enum(
                "system",
                "merchant",
                "customer",
                "trader",
                "admin",
                name="actortype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("uploaded_by_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_receipts_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("s3_key", name=op.f("uq_receipts_s3_key")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_order_id"), ["order_id"], unique=False)

    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["callback_deliveries.id"],
            name=op.f("fk_callback_attempts_delivery_id_callback_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
        sa.UniqueConstraint("delivery_id", "attempt_no", name="uq_callback_attempts_delivery_no"),
    )
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_attempts_delivery_id"), ["delivery_id"], unique=False
        )

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("posting_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_entries_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["ledger_postings.id"],
            name=op.f("fk_ledger_entries_posting_id_ledger_postings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_posting_id"), ["posting_id"], unique=False
        )

    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("amount_shift_step_minor", sa.Integer(), nullable=False, server_default="100")
        )
        batch_op.add_column(
            sa.Column("amount_shift_max_minor", sa.Integer(), nullable=False, server_default="1000")
        )

    _insert_reference_data()


def _insert_reference_data() -> None:
    currencies = sa.table(
        "currencies",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("minor_units", sa.Integer),
        sa.column("is_active", sa.Boolean),
    )
    op.bulk_insert(
        currencies,
        [{"code": c, "name": n, "minor_units": m, "is_active": True} for c, n, m in CURRENCIES],
    )
    for table_name, rows in (("payment_methods", PAYMENT_METHODS), ("banks", BANKS)):
        table = sa.table(
            table_name,
            sa.column("code", sa.String),
            sa.column("name", sa.String),
            sa.column("is_active", sa.Boolean),
        )
        op.bulk_insert(table, [{"code": c, "name": n, "is_active": True} for c, n in rows])


def downgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("amount_shift_max_minor")
        batch_op.drop_column("amount_shift_step_minor")

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_posting_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_account_id"))

    op.drop_table("ledger_entries")
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_attempts_delivery_id"))

    op.drop_table("callback_attempts")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_order_id"))

    op.drop_table("receipts")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_events_order_id"))

    op.drop_table("order_events")
    with op.batch_alter_table("ledger_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_postings_order_id"))

    op.drop_table("ledger_postings")
    with op.batch_alter_table("ledger_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_holds_account_id"))

    op.drop_table("ledger_holds")
    with op.batch_alter_table("callback_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_deliveries_store_id"))
        batch_op.drop_index(batch_op.f("ix_callback_deliveries_order_id"))

    op.drop_table("callback_deliveries")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_orders_open_requisite_amount",
            postgresql_where=sa.text(
                "status IN ('awaiting_payment', 'payment_claimed', 'disputed')"
            ),
            sqlite_where=sa.text("status IN ('awaiting_payment', 'payment_claimed', 'disputed')"),
        )
        batch_op.drop_index(batch_op.f("ix_orders_trader_id"))
        batch_op.drop_index(batch_op.f("ix_orders_store_id"))
        batch_op.drop_index(batch_op.f("ix_orders_status"))
        batch_op.drop_index(batch_op.f("ix_orders_requisite_id"))
        batch_op.drop_index(batch_op.f("ix_orders_merchant_id"))

    op.drop_table("orders")
    with op.batch_alter_table("requisites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requisites_trader_id"))
        batch_op.drop_index(batch_op.f("ix_requisites_status"))

    op.drop_table("requisites")
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_traders_user_id"))

    op.drop_table("traders")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_accounts_owner_id"))

    op.drop_table("ledger_accounts")
    op.drop_table("payment_methods")
    op.drop_table("currencies")
    op.drop_table("banks")
