"""Stores: the previous callback signing secret and when it stops signing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("previous_signing_secret_encrypted", sa.String(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "previous_signing_secret_expires_at", sa.DateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("previous_signing_secret_expires_at")
        batch_op.drop_column("previous_signing_secret_encrypted")
