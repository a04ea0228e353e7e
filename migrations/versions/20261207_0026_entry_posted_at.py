"""ledger_entries.posted_at: the posting's time on each entry, so an account's statement
reads its lines from one index (account_id, posted_at, id) instead of walking the postings
by date and probing each for the account (docs/operations.md, "Indexes at production size").

Expand only: the column is nullable (the previous release writes entries without it during
a deploy) and the statement falls back to the postings' dates for an account while any of
its entries is unfilled. Existing rows are filled here in batches of `BATCH` entries in id
order, each batch its own transaction on PostgreSQL (no long lock, no long transaction);
`python -m launcher.backfill_posted_at` runs the same batches again after the deploy, for
the rows the previous release wrote meanwhile.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_ledger_entries_account_posted"
COLUMNS = ["account_id", "posted_at", "id"]
BATCH = 5000
FIRST_BATCH = "SELECT id FROM ledger_entries ORDER BY id LIMIT :n"
NEXT_BATCH = "SELECT id FROM ledger_entries WHERE id > :after ORDER BY id LIMIT :n"
FILL = (
    "UPDATE ledger_entries SET posted_at = (SELECT p.created_at FROM ledger_postings p"
    " WHERE p.id = ledger_entries.posting_id)"
    " WHERE id >= {first} AND id <= {last} AND posted_at IS NULL"
)


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _backfill() -> None:
    if op.get_context().as_sql:
        # Offline (the SQL squawk lints): the statement each batch runs, once.
        op.execute(FILL.format(first="'<first id>'", last="'<last id>'"))
        return
    conn = op.get_bind()
    fill = sa.text(FILL.format(first=":first", last=":last"))
    # On PostgreSQL this runs in the autocommit block: each statement commits on its own.
    ids = conn.execute(sa.text(FIRST_BATCH), {"n": BATCH}).scalars().all()
    while ids:
        conn.execute(fill, {"first": ids[0], "last": ids[-1]})
        ids = conn.execute(sa.text(NEXT_BATCH), {"after": ids[-1], "n": BATCH}).scalars().all()


def upgrade() -> None:
    op.add_column(
        "ledger_entries",
        sa.Column("posted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        if_not_exists=_postgresql(),
    )
    if not _postgresql():
        op.create_index(INDEX, "ledger_entries", COLUMNS)
        _backfill()
        return
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX, "ledger_entries", COLUMNS, postgresql_concurrently=True, if_not_exists=True
        )
        _backfill()


def downgrade() -> None:
    if not _postgresql():
        op.drop_index(INDEX, table_name="ledger_entries")
    else:
        with op.get_context().autocommit_block():
            op.drop_index(
                INDEX, table_name="ledger_entries", postgresql_concurrently=True, if_exists=True
            )
    op.drop_column("ledger_entries", "posted_at", if_exists=_postgresql())
