"""The turnover report's daily rows (`models.turnover`): written with each settlement, read
by the report instead of the period's postings.

Written: `record` adds the figures of postings just written to their day's store row and
trader row, and marks the postings rolled up (`turnover_rolled_at`), in the caller's
transaction: a posting's figures are in the rows exactly when it is marked. The figures are
the report's own SQL (`turnover._figures`) run over those postings, so the rows hold what
the ledger query would have summed. `roll_up_pending` does the same for postings not yet
marked, in batches (history before migration 0027, postings the previous release wrote
during a deploy); `rebuild` recomputes a range of days (after a manual ledger fix).

Read: `rollup_statement` sums a period's rows per period and group, when every dimension
the query groups or filters by is in one grain; `turnover_statement(…, unrolled=True)`
adds the postings not yet marked, read from the ledger through a partial index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    FromClause,
    Table,
    cast,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from core.db import dialect_insert
from models.base import utcnow
from models.reports import Granularity
from models.turnover import NO_ONE, TurnoverStoreDay, TurnoverTraderDay
from processing.reports.turnover import (
    CORRECTION_KIND,
    FIGURES,
    SETTLE_KINDS,
    UNROLLED_POSTINGS,
    TurnoverQuery,
    accounts,
    as_date,
    entries,
    orders,
    period_start,
    postings,
    report_figures,
    teams,
)

store_days: Table = TurnoverStoreDay.__table__  # type: ignore[attr-defined]
trader_days: Table = TurnoverTraderDay.__table__  # type: ignore[attr-defined]
REPORTED_KINDS = (*SETTLE_KINDS, CORRECTION_KIND)
# Postings rolled up per transaction by `roll_up_pending`.
BATCH = 2000

# The order columns each grain is keyed by (the day and the figures aside).
KEYS = {
    "store": ("store_id", "currency", "kind", "merchant_id"),
    "trader": ("trader_id", "teamlead_id", "currency", "kind"),
}


def _increments(conn: Connection, chosen: ColumnElement[bool]) -> list[dict[str, Any]]:
    """The chosen postings' figures per day and order dimensions (the report's own sums)."""
    day = period_start(conn.dialect.name, postings.c.created_at, Granularity.day).label("day")
    dims = [orders.c[name] for name in dict.fromkeys(KEYS["store"] + KEYS["trader"])]
    source = (
        entries.join(postings, postings.c.id == entries.c.posting_id)
        .join(accounts, accounts.c.id == entries.c.account_id)
        .join(orders, orders.c.id == postings.c.order_id)
    )
    query = (
        select(day, *dims, *report_figures())
        .select_from(source)
        .where(
            chosen, postings.c.kind.in_(REPORTED_KINDS), accounts.c.currency == orders.c.currency
        )
        .group_by(day, *dims)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _add(conn: Connection, table: Table, keys: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Add each increment to its row of `table` (inserted at zero first), one statement per
    row, in key order (two transactions adding to the same rows take them in one order)."""
    summed: dict[tuple[Any, ...], dict[str, int]] = {}
    for row in rows:
        key = (as_date(row["day"]), *(_key_value(row[name]) for name in keys))
        into = summed.setdefault(key, dict.fromkeys(FIGURES, 0))
        for name in FIGURES:
            into[name] += int(row[name])
    for key in sorted(summed, key=lambda k: tuple(str(part) for part in k)):
        values = dict(zip(("day", *keys), key, strict=True)) | summed[key]
        insert = dialect_insert(conn.dialect.name, table).values(values)
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=[c.name for c in table.primary_key.columns],
                set_={name: table.c[name] + insert.excluded[name] for name in FIGURES},
            )
        )


def _key_value(value: Any) -> Any:
    if value is None:
        return NO_ONE
    return getattr(value, "value", value)


def _roll_up(conn: Connection, chosen: ColumnElement[bool]) -> None:
    rows = _increments(conn, chosen)
    _add(conn, store_days, KEYS["store"], rows)
    _add(conn, trader_days, KEYS["trader"], rows)
    conn.execute(update(postings).where(chosen).values(turnover_rolled_at=utcnow()))


def record(conn: Connection, keys: Iterable[str]) -> None:
    """Roll up the postings of these idempotency keys, written in this transaction."""
    wanted = list(keys)
    if wanted:
        _roll_up(conn, postings.c.idempotency_key.in_(wanted) & UNROLLED_POSTINGS)


def roll_up_pending(engine: Engine, batch: int = BATCH) -> int:
    """Roll up every posting not yet marked, oldest first, a batch per transaction; returns
    how many. Safe beside settlements: each batch takes only postings still unmarked."""
    done = 0
    while True:
        with engine.begin() as conn:
            page = select(postings.c.id).where(UNROLLED_POSTINGS)
            ids = conn.execute(
                page.order_by(postings.c.created_at, postings.c.id).limit(batch).with_for_update()
            )
            chosen = [row[0] for row in ids]
            if not chosen:
                return done
            _roll_up(conn, postings.c.id.in_(chosen))
            done += len(chosen)


def rebuild(engine: Engine, date_from: dt.date, date_to: dt.date) -> int:
    """Recompute the days from `date_from` to `date_to` (UTC) from the ledger: their rows are
    dropped and their postings marked pending in one transaction, then rolled up again."""
    start = dt.datetime.combine(date_from, dt.time(), dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
    with engine.begin() as conn:
        for table in (store_days, trader_days):
            conn.execute(delete(table).where(table.c.day >= date_from, table.c.day <= date_to))
        conn.execute(
            update(postings)
            .where(
                postings.c.created_at >= start,
                postings.c.created_at < end,
                postings.c.kind.in_(REPORTED_KINDS),
            )
            .values(turnover_rolled_at=None)
        )
    return roll_up_pending(engine)


def _grains() -> dict[str, tuple[Table, dict[str, ColumnElement[Any]], FromClause]]:
    s, t = store_days, trader_days
    return {
        "store": (
            s,
            {"merchant": s.c.merchant_id, "store": s.c.store_id},
            s,
        ),
        "trader": (
            t,
            {
                "trader": func.nullif(t.c.trader_id, NO_ONE, type_=t.c.trader_id.type),
                "team": teams.c.id,
            },
            t.outerjoin(teams, teams.c.lead_user_id == t.c.teamlead_id),
        ),
    }


def rollup_statement(dialect: str, query: TurnoverQuery) -> Any | None:
    """The report's SELECT over the daily rows of the grain holding every dimension asked
    for; None when no grain does (a store crossed with a trader or team)."""
    asked = {*query.group_by, *query.filters}
    for table, own, source in _grains().values():
        dims = own | {"currency": table.c.currency, "kind": table.c.kind}
        if not asked <= dims.keys():
            continue
        if query.granularity == Granularity.day:
            period: ColumnElement[Any] = table.c.day
        elif dialect == "postgresql":
            # A date is truncated as a timestamp without zone: the session's zone plays no part.
            period = func.date_trunc(query.granularity.value, cast(table.c.day, DateTime))
        else:
            period = period_start(dialect, table.c.day, query.granularity)
        keys = [period.label("period"), table.c.currency]
        keys += [dims[name].label(f"g_{name}") for name in query.group_by]
        sums = [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in FIGURES]
        return (
            select(*keys, *sums)
            .select_from(source)
            .where(
                table.c.day >= query.date_from,
                table.c.day <= query.date_to,
                *(dims[name] == value for name, value in query.filters.items()),
            )
            .group_by(*keys)
            .order_by(*keys)
        )
    return None
