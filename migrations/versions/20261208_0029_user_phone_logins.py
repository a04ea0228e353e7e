"""A person's phone and sign-in times on their profile.

- users.phone: their own number, international format (set on the Connect profile).
- users.last_login_at, users.previous_login_at: this sign-in and the one before it; the
  profile shows the one before, so a person can tell whether it was them.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-08 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("previous_login_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("previous_login_at")
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("phone")
