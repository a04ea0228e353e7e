"""Ledger: one platform account per (kind, currency).

The unique key (kind, owner_id, currency) never applied to platform accounts: their owner is
NULL and NULLs are distinct, so concurrent first postings in a new currency could create
several. Existing duplicates are merged into the oldest (entries, holds and balances moved),
then a partial unique index keeps it that way.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLATFORM = "owner_id IS NULL"


def _merge_duplicates() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, kind, currency, balance_minor, held_minor FROM ledger_accounts "
            "WHERE owner_id IS NULL ORDER BY kind, currency, created_at, id"
        )
    ).all()
    keep: dict[tuple[str, str], object] = {}
    for account_id, kind, currency, balance, held in rows:
        first = keep.setdefault((kind, currency), account_id)
        if first == account_id:
            continue
        params = {"keep": first, "gone": account_id, "balance": balance, "held": held}
        conn.execute(
            sa.text("UPDATE entries SET account_id = :keep WHERE account_id = :gone"), params
        )
        conn.execute(
            sa.text("UPDATE holds SET account_id = :keep WHERE account_id = :gone"), params
        )
        conn.execute(
            sa.text(
                "UPDATE ledger_accounts SET balance_minor = balance_minor + :balance, "
                "held_minor = held_minor + :held WHERE id = :keep"
            ),
            params,
        )
        conn.execute(sa.text("DELETE FROM ledger_accounts WHERE id = :gone"), params)


def upgrade() -> None:
    _merge_duplicates()
    op.create_index(
        "ux_ledger_accounts_platform",
        "ledger_accounts",
        ["kind", "currency"],
        unique=True,
        postgresql_where=sa.text(PLATFORM),
        sqlite_where=sa.text(PLATFORM),
    )


def downgrade() -> None:
    op.drop_index("ux_ledger_accounts_platform", table_name="ledger_accounts")
