"""Analytics: editable categorisation rules (seeded with the defaults) and dashboard figures.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00.000000

The seed rows are a frozen copy of `analytics.DEFAULT_RULES` as of this revision: a
migration must not change meaning when the package's defaults change later.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (id, priority, category, direction, mcc_codes, text_pattern)
SEED_RULES = [
    ("salary-text", 10, "salary", "credit", [], "зарплат|заработн|аванс|salary|payroll|оклад"),
    ("loan-text", 20, "loan_payment", "debit", [], "кредит|погашени|ипотек|loan|рассрочк"),
    ("cash-mcc", 100, "cash", None, ["6010", "6011"], None),
    (
        "groceries-mcc",
        110,
        "groceries",
        None,
        ["5411", "5422", "5441", "5451", "5462", "5499"],
        None,
    ),
    ("restaurants-mcc", 120, "restaurants", None, ["5811", "5812", "5813", "5814"], None),
    (
        "transport-mcc",
        130,
        "transport",
        None,
        ["4111", "4121", "4131", "4511", "4784", "5541", "5542", "7523"],
        None,
    ),
    (
        "health-mcc",
        140,
        "health",
        None,
        ["5122", "5912", "8011", "8021", "8043", "8062", "8071", "8099"],
        None,
    ),
    (
        "entertainment-mcc",
        150,
        "entertainment",
        None,
        ["5815", "5816", "5817", "5818", "7832", "7841", "7922", "7991", "7996", "7999"],
        None,
    ),
    ("utilities-mcc", 160, "rent_utilities", None, ["4812", "4814", "4899", "4900", "6513"], None),
    (
        "groceries-text",
        300,
        "groceries",
        "debit",
        [],
        "продукт|супермаркет|grocer|пят[её]рочк|перекр[её]ст|магнит|ашан|вкусвилл",
    ),
    (
        "rent-text",
        310,
        "rent_utilities",
        "debit",
        [],
        r"жкх|аренд|коммунал|квартплат|электроэнерг|\brent\b|utilit|интернет|связь",
    ),
    (
        "transport-text",
        320,
        "transport",
        "debit",
        [],
        "транспорт|такси|метро|taxi|азс|бензин|топлив|каршеринг",
    ),
    (
        "restaurants-text",
        330,
        "restaurants",
        "debit",
        [],
        "ресторан|кафе|кофе|restaurant|cafe|coffee|доставка еды",
    ),
    (
        "health-text",
        340,
        "health",
        "debit",
        [],
        "аптек|здоров|медиц|клиник|стоматолог|pharm|health",
    ),
    (
        "entertainment-text",
        350,
        "entertainment",
        "debit",
        [],
        r"развлеч|кино|театр|концерт|подписк|netflix|spotify|\bигр",
    ),
    ("cash-text", 360, "cash", None, [], r"банкомат|наличн|\batm\b|\bcash\b"),
    ("transfer-text", 900, "transfers", None, [], "перевод|transfer|сбп|p2p"),
]


def upgrade() -> None:
    rules = op.create_table(
        "category_rules",
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("bank_tx_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("mcc_codes", sa.JSON(), nullable=False),
        sa.Column("merchant_category", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("text_pattern", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_rules")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        rules,
        [
            {
                "id": rule_id,
                "priority": priority,
                "category": category,
                "direction": direction,
                "mcc_codes": mcc_codes,
                "text_pattern": pattern,
                "bank_tx_code": None,
                "merchant_category": None,
                "created_at": now,
                "updated_at": now,
            }
            for rule_id, priority, category, direction, mcc_codes, pattern in SEED_RULES
        ],
    )
    with op.batch_alter_table("analytics_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dashboard", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("analytics_snapshots", schema=None) as batch_op:
        batch_op.drop_column("dashboard")
    op.drop_table("category_rules")
