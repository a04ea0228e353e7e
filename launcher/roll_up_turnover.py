"""`python -m launcher.roll_up_turnover`: put every settle and correction posting not yet in
the turnover report's daily rows into them (migration 0027 adds the rows empty; run this
after the deploy, once the previous release has stopped, and it takes the history and what
that release posted meanwhile). `--rebuild FROM TO` recomputes those days (ISO dates, UTC)
from the ledger instead, after a manual fix of postings.

Batches of `processing.reports.rollup.BATCH` postings, each its own transaction; safe beside
running settlements and to run again. Until it has run the report is exact, reading the
postings not rolled up from the ledger, only slower.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from core.db import build_engine
from core.settings import get_settings
from processing.reports.rollup import rebuild, roll_up_pending


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rebuild", nargs=2, metavar=("FROM", "TO"), type=dt.date.fromisoformat)
    args = parser.parse_args()
    engine = build_engine(get_settings())
    if args.rebuild:
        count = rebuild(engine, *args.rebuild)
    else:
        count = roll_up_pending(engine)
    if engine.dialect.name == "postgresql":
        # The planner's statistics after the mass update: the report's probe of the postings
        # not rolled up relies on knowing they are few.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE ledger_postings")
    print(f"ledger_postings: {count} rolled up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
