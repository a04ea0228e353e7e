"""Connect: bank connections, consents, tokens, raw API logs and synced bank data.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:16:34.061989
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_snapshots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_analytics_snapshots_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_snapshots")),
    )
    with op.batch_alter_table("analytics_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_snapshots_user_computed", ["user_id", "computed_at"], unique=False
        )
    op.create_table(
        "bank_tokens",
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bank_code", name=op.f("pk_bank_tokens")),
    )
    op.create_table(
        "raw_api_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("endpoint", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("correlation_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_api_logs")),
    )
    with op.batch_alter_table("raw_api_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_raw_api_logs_correlation_id"), ["correlation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_raw_api_logs_user_id"), ["user_id"], unique=False)

    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sub_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "liquid",
                "deposit",
                "liability",
                "other",
                name="accountkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("nickname", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("number_masked", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("opening_date", sa.Date(), nullable=True),
        sa.Column("available_minor", sa.BigInteger(), nullable=True),
        sa.Column("booked_minor", sa.BigInteger(), nullable=True),
        sa.Column("balance_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bank_accounts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint(
            "user_id", "bank_code", "external_id", name="uq_bank_accounts_external"
        ),
    )
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_accounts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "bank_connections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_connected",
                "consent_pending",
                "sync_in_progress",
                "ready",
                "reconsent_required",
                "error",
                name="connectionstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("progress_pct", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("allow_sandbox_sign", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bank_connections_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_connections")),
        sa.UniqueConstraint("user_id", "bank_code", name="uq_bank_connections_user_bank"),
    )
    with op.batch_alter_table("bank_connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_connections_user_id"), ["user_id"], unique=False)

    op.create_table(
        "consents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "accounts", "product_agreements", name="consentkind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("consent_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "authorized",
                "rejected",
                "revoked",
                "expired",
                name="consentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("auto_approved", sa.Boolean(), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_consents_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consents_user_id"), ["user_id"], unique=False)

    op.create_table(
        "product_agreements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("agreement_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("product_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("product_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("product_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "account_number_masked", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
        ),
        sa.Column("interest_rate", sa.Numeric(precision=8, scale=4), nullable=True),
        sa.Column("balance_minor", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_product_agreements_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_agreements")),
        sa.UniqueConstraint(
            "user_id", "bank_code", "agreement_id", name="uq_product_agreements_ext"
        ),
    )
    with op.batch_alter_table("product_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_agreements_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("transactions_seen", sa.Integer(), nullable=False),
        sa.Column("transactions_added", sa.Integer(), nullable=False),
        sa.Column("transactions_updated", sa.Integer(), nullable=False),
        sa.Column("agreements", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sync_runs_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_runs_user_id"), ["user_id"], unique=False)

    op.create_table(
        "balance_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("balance_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_balance_snapshots_account_id_bank_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_snapshots")),
    )
    with op.batch_alter_table("balance_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_balance_snapshots_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "bank_transactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "pending",
                "declined",
                "refunded",
                name="transactionstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("bank_tx_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("mcc", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("merchant_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("merchant_category", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("counterparty", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("card_masked", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("is_own_transfer", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_bank_transactions_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bank_transactions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transactions")),
        sa.UniqueConstraint(
            "bank_code", "account_id", "external_id", name="uq_bank_transactions_external"
        ),
    )
    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_transactions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_bank_transactions_user_booked", ["user_id", "booked_at"], unique=False
        )

    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_row_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "authorized",
                "rejected",
                "revoked",
                "expired",
                name="consentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_row_id"],
            ["consents.id"],
            name=op.f("fk_consent_events_consent_row_id_consents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_events_consent_row_id"), ["consent_row_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_snapshots_user_computed")
    op.drop_table("analytics_snapshots")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_events_consent_row_id"))

    op.drop_table("consent_events")
    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_transactions_user_booked")
        batch_op.drop_index(batch_op.f("ix_bank_transactions_account_id"))

    op.drop_table("bank_transactions")
    with op.batch_alter_table("balance_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_balance_snapshots_account_id"))

    op.drop_table("balance_snapshots")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_user_id"))

    op.drop_table("sync_runs")
    with op.batch_alter_table("product_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_agreements_user_id"))

    op.drop_table("product_agreements")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_user_id"))
        batch_op.drop_index(batch_op.f("ix_consents_request_id"))

    op.drop_table("consents")
    with op.batch_alter_table("bank_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_connections_user_id"))

    op.drop_table("bank_connections")
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_accounts_user_id"))

    op.drop_table("bank_accounts")
    with op.batch_alter_table("raw_api_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_raw_api_logs_user_id"))
        batch_op.drop_index(batch_op.f("ix_raw_api_logs_correlation_id"))

    op.drop_table("raw_api_logs")
    op.drop_table("bank_tokens")
