"""Pay-outs (recipient, deadlines, review window), disputes with SLA escalation and actual
amounts, fraud rules and block lists, and a per-order sequence for the order timeline.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_RETRYABLE = "failure_reason IS NULL OR failure_reason <> 'no_requisite'"
RETRYABLE = (
    "failure_reason IS NULL OR failure_reason NOT IN ('no_requisite', 'insufficient_balance')"
)
String = sqlmodel.sql.sqltypes.AutoString


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "fraud_rules",
        sa.Column("name", String(length=100), nullable=False),
        sa.Column("kind", _enum("amount", "velocity", name="fraudrulekind"), nullable=False),
        sa.Column("action", _enum("deny", "review", name="fraudaction"), nullable=False),
        sa.Column("direction", _enum("payin", "payout", "both", name="direction"), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=True),
        sa.Column("amount_over_minor", sa.BigInteger(), nullable=True),
        sa.Column(
            "velocity_key",
            _enum("customer_id", "ip", "recipient", "requisite", name="velocitykey"),
            nullable=True,
        ),
        sa.Column("velocity_limit", sa.Integer(), nullable=True),
        sa.Column("window_seconds", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_fraud_rules_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_rules")),
    )
    with op.batch_alter_table("fraud_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fraud_rules_store_id"), ["store_id"], unique=False)
    op.create_table(
        "fraud_block_list",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind", _enum("customer_id", "ip", "card", "phone", name="blockkind"), nullable=False
        ),
        sa.Column("fingerprint", String(length=64), nullable=False),
        sa.Column("label", String(length=128), nullable=False),
        sa.Column("reason", String(length=500), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_fraud_block_list_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_block_list")),
        sa.UniqueConstraint("kind", "fingerprint", name="uq_fraud_block_list_value"),
    )
    with op.batch_alter_table("stores", schema=None) as batch_op:
        for column, default in (
            ("payout_take_seconds", "900"),
            ("payout_pay_seconds", "1800"),
            ("payout_review_seconds", "300"),
        ):
            batch_op.add_column(
                sa.Column(column, sa.Integer(), nullable=False, server_default=default)
            )
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_open_payouts", sa.Integer(), nullable=False, server_default="3")
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                _enum("payin", "payout", name="orderkind"),
                nullable=False,
                server_default="payin",
            )
        )
        batch_op.add_column(sa.Column("customer_ip", String(length=45), nullable=True))
        batch_op.add_column(sa.Column("fraud_decision", String(length=16), nullable=True))
        batch_op.add_column(sa.Column("fraud_hits", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("recipient_kind", String(length=8), nullable=True))
        batch_op.add_column(sa.Column("recipient_encrypted", String(length=500), nullable=True))
        batch_op.add_column(sa.Column("recipient_last4", String(length=4), nullable=True))
        batch_op.add_column(sa.Column("recipient_fingerprint", String(length=64), nullable=True))
        batch_op.add_column(sa.Column("recipient_bank_code", String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("review_seconds", sa.Integer(), nullable=False, server_default="0")
        )
        for column in ("assigned_at", "paid_at", "review_until", "disputed_at", "escalated_at"):
            batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("dispute_opened_by", String(length=16), nullable=True))
        batch_op.add_column(sa.Column("dispute_reason", String(length=500), nullable=True))
        batch_op.add_column(sa.Column("dispute_evidence_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("actual_amount_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("events", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_orders_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orders_recipient_fingerprint"), ["recipient_fingerprint"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_orders_disputed_at"), ["disputed_at"], unique=False)
        batch_op.drop_index("ux_orders_store_merchant_order")
        batch_op.create_index(
            "ux_orders_store_merchant_order",
            ["store_id", "merchant_order_id"],
            unique=True,
            postgresql_where=sa.text(RETRYABLE),
            sqlite_where=sa.text(RETRYABLE),
        )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
    # Number the existing events per order in the order they happened.
    op.execute(
        "UPDATE order_events SET seq = (SELECT COUNT(*) FROM order_events e2"
        " WHERE e2.order_id = order_events.order_id AND (e2.at < order_events.at"
        " OR (e2.at = order_events.at AND e2.id <= order_events.id)))"
    )
    op.execute(
        "UPDATE orders SET events = (SELECT COUNT(*) FROM order_events e"
        " WHERE e.order_id = orders.id)"
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_order_events_order_to_status", type_="unique")
        batch_op.create_unique_constraint("uq_order_events_order_seq", ["order_id", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_order_events_order_seq", type_="unique")
        batch_op.create_unique_constraint(
            "uq_order_events_order_to_status", ["order_id", "to_status"]
        )
        batch_op.drop_column("seq")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ux_orders_store_merchant_order")
        batch_op.create_index(
            "ux_orders_store_merchant_order",
            ["store_id", "merchant_order_id"],
            unique=True,
            postgresql_where=sa.text(OLD_RETRYABLE),
            sqlite_where=sa.text(OLD_RETRYABLE),
        )
        batch_op.drop_index(batch_op.f("ix_orders_disputed_at"))
        batch_op.drop_index(batch_op.f("ix_orders_recipient_fingerprint"))
        batch_op.drop_index(batch_op.f("ix_orders_kind"))
        for column in (
            "events",
            "actual_amount_minor",
            "dispute_evidence_id",
            "dispute_reason",
            "dispute_opened_by",
            "escalated_at",
            "disputed_at",
            "review_until",
            "paid_at",
            "assigned_at",
            "review_seconds",
            "recipient_bank_code",
            "recipient_fingerprint",
            "recipient_last4",
            "recipient_encrypted",
            "recipient_kind",
            "fraud_hits",
            "fraud_decision",
            "customer_ip",
            "kind",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("traders", schema=None) as batch_op:
        batch_op.drop_column("max_open_payouts")
    with op.batch_alter_table("stores", schema=None) as batch_op:
        for column in ("payout_review_seconds", "payout_pay_seconds", "payout_take_seconds"):
            batch_op.drop_column(column)
    op.drop_table("fraud_block_list")
    with op.batch_alter_table("fraud_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fraud_rules_store_id"))
    op.drop_table("fraud_rules")
