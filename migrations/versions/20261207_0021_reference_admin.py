"""Reference data administration: which bank offers which payment method.

Currencies, banks and payment methods are tables already (an administrator now edits them
through the API). Until now any bank went with any payment method, so every existing pair
is offered: every requisite and order keeps its meaning, and an administrator narrows the
offer from here on.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "bank_payment_methods",
        sa.Column("bank_code", String(length=32), nullable=False),
        sa.Column("payment_method", String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_code"], ["banks.code"], name=op.f("fk_bank_payment_methods_bank_code_banks")
        ),
        sa.ForeignKeyConstraint(
            ["payment_method"],
            ["payment_methods.code"],
            name=op.f("fk_bank_payment_methods_payment_method_payment_methods"),
        ),
        sa.PrimaryKeyConstraint(
            "bank_code", "payment_method", name=op.f("pk_bank_payment_methods")
        ),
    )
    # Every bank offers every method, as it did before this revision.
    op.execute(
        "INSERT INTO bank_payment_methods (bank_code, payment_method) "
        "SELECT banks.code, payment_methods.code FROM banks CROSS JOIN payment_methods"
    )


def downgrade() -> None:
    op.drop_table("bank_payment_methods")
