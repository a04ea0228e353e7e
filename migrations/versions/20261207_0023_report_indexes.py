"""Postings by date: the turnover report reads the postings of a date range (at most a
year) and would otherwise scan the whole ledger every time.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ledger_postings_created_at", "ledger_postings", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_postings_created_at", table_name="ledger_postings")
