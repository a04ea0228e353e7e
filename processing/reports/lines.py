"""The turnover report's rows: the daily rows of the period (`processing.reports.rollup`)
plus the postings not rolled up yet, or, for a store crossed with a trader or team (no
daily grain holds both), the ledger's entries of the period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, select
from sqlmodel import Session

from core.errors import Invalid
from processing.reports.rollup import rollup_statement
from processing.reports.turnover import (
    DIMENSIONS,
    FIGURES,
    UNROLLED_POSTINGS,
    TurnoverLine,
    TurnoverQuery,
    as_date,
    check_range,
    label,
    postings,
    turnover_statement,
)

# Postings not rolled up that the report sums by id (beyond: the query over all of them).
PENDING_BY_ID = 1000


def check_query(query: TurnoverQuery) -> None:
    """A 422 for a range too long or inverted, or a filter that is no dimension."""
    check_range(query.date_from, query.date_to)
    unknown = [name for name in query.filters if name not in DIMENSIONS]
    if unknown:
        raise Invalid(f"Unknown filter: {', '.join(unknown)}", code="report_unknown_group")


def turnover_lines(session: Session, query: TurnoverQuery) -> list[TurnoverLine]:
    """The report's rows in minor units, in period, currency and group order."""
    return list(stream_lines(session, query))


def stream_lines(session: Session, query: TurnoverQuery) -> Iterator[TurnoverLine]:
    """The same rows, made as they are read (all of them first only when postings not rolled
    up yet must be summed into them)."""
    check_query(query)
    conn = session.connection()
    dialect = conn.dialect.name
    daily = rollup_statement(dialect, query)
    if daily is None:
        yield from ledger_lines(session, query)
        return
    fresh = list(_lines(query, conn.execute(_pending(conn, dialect, query)).mappings()))
    rolled = _lines(query, conn.execute(daily).mappings())
    if not fresh:
        yield from rolled
        return
    yield from _merged(list(rolled), fresh, nulls_last=dialect == "postgresql")


def _pending(conn: Connection, dialect: str, query: TurnoverQuery) -> Any:
    """The report over the period's postings not rolled up yet: found first through their
    partial index (none, or a few after a deploy), then summed by id, so the plan is primary
    key lookups whatever the statistics say; past `PENDING_BY_ID` (the job has not run),
    the ledger query over them."""
    start = dt.datetime.combine(query.date_from, dt.time(), dt.UTC)
    end = dt.datetime.combine(query.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
    probe = select(postings.c.id).where(
        UNROLLED_POSTINGS, postings.c.created_at >= start, postings.c.created_at < end
    )
    ids = conn.execute(probe.limit(PENDING_BY_ID + 1)).scalars().all()
    statement = turnover_statement(dialect, query, unrolled=True)
    if len(ids) > PENDING_BY_ID:
        return statement
    return statement.where(postings.c.id.in_(ids))


def ledger_lines(session: Session, query: TurnoverQuery) -> list[TurnoverLine]:
    """The rows summed from the ledger's entries, every posting of the period (what the
    daily rows stand in for)."""
    dialect = session.connection().dialect.name
    rows = session.connection().execute(turnover_statement(dialect, query)).mappings()
    return list(_lines(query, rows))


def _lines(query: TurnoverQuery, rows: Iterable[Any]) -> Iterator[TurnoverLine]:
    for row in rows:
        yield TurnoverLine(
            period=as_date(row["period"]),
            currency=row["currency"],
            group={name: label(row[f"g_{name}"]) for name in query.group_by},
            figures={name: int(row[name]) for name in FIGURES},
        )


def _merged(
    rolled: list[TurnoverLine], fresh: list[TurnoverLine], *, nulls_last: bool
) -> list[TurnoverLine]:
    """Both sets summed per period, currency and group, in the order the database sorts
    them (NULL groups last on PostgreSQL, first on SQLite)."""
    by_key: dict[tuple[Any, ...], TurnoverLine] = {}
    for line in [*rolled, *fresh]:
        key = (line.period, line.currency, *line.group.values())
        if key not in by_key:
            by_key[key] = TurnoverLine(line.period, line.currency, dict(line.group), {})
        into = by_key[key].figures
        for name, value in line.figures.items():
            into[name] = into.get(name, 0) + value

    def order(line: TurnoverLine) -> tuple[Any, ...]:
        groups = [((v is None) == nulls_last, v or "") for v in line.group.values()]
        return (line.period, line.currency, *groups)

    return sorted(by_key.values(), key=order)
