"""`python -m launcher.backfill_posted_at`: date every ledger entry still without a
`posted_at` with its posting's time (migration 0026 adds the column and fills the rows it
finds; run this after a deploy, once the previous release has stopped, for the entries it
wrote meanwhile).

Batches of `BATCH` entries in id order, each its own transaction: no long lock, and a run
cut short resumes where the rows are still NULL. Until an account's entries are all dated
its statement reads the postings' dates instead (slower, same lines).
"""

from __future__ import annotations

import sys

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from core.db import build_engine
from core.settings import get_settings
from models.ledger import Entry, Posting

BATCH = 5000

entries = Entry.__table__  # type: ignore[attr-defined]
postings = Posting.__table__  # type: ignore[attr-defined]


def fill_posted_at(engine: Engine, batch: int = BATCH) -> int:
    """Fill every NULL `posted_at`; returns how many entries it dated."""
    posting_time = (
        select(postings.c.created_at).where(postings.c.id == entries.c.posting_id).scalar_subquery()
    )
    done, after = 0, None
    while True:
        page = select(entries.c.id).order_by(entries.c.id).limit(batch)
        if after is not None:
            page = page.where(entries.c.id > after)
        with engine.begin() as conn:
            ids = conn.execute(page).scalars().all()
            if not ids:
                return done
            done += conn.execute(
                update(entries)
                .where(
                    entries.c.id >= ids[0],
                    entries.c.id <= ids[-1],
                    entries.c.posted_at.is_(None),
                )
                .values(posted_at=posting_time)
            ).rowcount
        after = ids[-1]


def main() -> int:
    engine = build_engine(get_settings())
    print(f"ledger_entries: {fill_posted_at(engine)} dated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
