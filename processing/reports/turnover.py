"""The turnover report: one aggregate query over the ledger, grouped in the database.

Figures come from the ledger's settlement and correction postings (`processing.ledger.
settlement`), never from the orders' amount columns; orders only give the dimensions
(merchant, store, trader, currency, kind, team) and the dispute mark. Every amount is in the
order's own currency: a party settling in another currency has its legs in the order
currency on the platform's FX account (`processing.ledger.fx`), so reading the entries in the
order's currency sees each leg at its order amount whatever the parties settle in.

What each figure reads, in a settle posting (legs in `settlement._legs`):
- fees: the platform profit account's credits; rewards: its debits; profit: its sum, with
  the corrections' (what the platform actually earned).
- volume: a pay-in's principal is the one party debit (the trader's −amount); a pay-out's
  party debit is the store's −(amount + fee), less the fee.
- team-lead shares: entries on `teamlead` accounts.
Corrections (a dispute resolved at the actual amount) are counted apart: how many, the
credits they moved and their effect on profit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    String,
    case,
    distinct,
    func,
    select,
    text,
    type_coerce,
)

from core.errors import Invalid
from models.ledger import AccountKind, Entry, LedgerAccount, Posting
from models.orders import Order
from models.reports import Granularity
from models.teams import Team

# The team leads' ledger accounts (their share of their traders' rewards).
TEAMLEAD_ACCOUNT_KIND = AccountKind.teamlead.value
# A range is at most a year (a leap year's days included).
MAX_RANGE_DAYS = 366
SETTLE_KINDS = ("payin_settle", "payout_settle")
CORRECTION_KIND = "correction"
# The postings counted here and not yet in the daily rows (`processing.reports.rollup`):
# the predicate of `ix_ledger_postings_unrolled` (`models.ledger.UNROLLED`) in literals, so
# the planner can prove it and use that index; qualified, as the report joins three `kind`s.
UNROLLED_POSTINGS = text(
    "ledger_postings.turnover_rolled_at IS NULL"
    " AND ledger_postings.kind IN ('payin_settle', 'payout_settle', 'correction')"
)

orders = Order.__table__  # type: ignore[attr-defined]
postings = Posting.__table__  # type: ignore[attr-defined]
entries = Entry.__table__  # type: ignore[attr-defined]
accounts = LedgerAccount.__table__  # type: ignore[attr-defined]
teams = Team.__table__  # type: ignore[attr-defined]


def _no_join(source: FromClause) -> FromClause:
    return source


def _team_join(source: FromClause) -> FromClause:
    """The team an order was fixed to (its lead at match or take; no team: NULL)."""
    return source.outerjoin(teams, teams.c.lead_user_id == orders.c.teamlead_id)


@dataclass(frozen=True)
class Dimension:
    """A way to group and filter the report: its SQL value and the join it needs beyond
    the orders (a team is the trader's team membership, for one)."""

    value: ColumnElement[Any]
    join: Callable[[FromClause], FromClause] = field(default=_no_join)


# A new dimension is one entry here (and its label in the CSV follows from the name).
DIMENSIONS: dict[str, Dimension] = {
    "merchant": Dimension(orders.c.merchant_id),
    "store": Dimension(orders.c.store_id),
    "trader": Dimension(orders.c.trader_id),
    "currency": Dimension(orders.c.currency),
    "kind": Dimension(orders.c.kind),
    "team": Dimension(teams.c.id, _team_join),
}


@dataclass(frozen=True)
class TurnoverQuery:
    date_from: dt.date
    date_to: dt.date
    granularity: Granularity = Granularity.day
    group_by: tuple[str, ...] = ()
    # Dimension name → the value rows must have (`{"store": id}`, `{"team": id}`).
    filters: dict[str, object] = field(default_factory=dict)


@dataclass
class TurnoverLine:
    """One row in minor units, before formatting."""

    period: dt.date
    currency: str
    group: dict[str, str | None]
    figures: dict[str, int]


FIGURES = (
    "orders",
    "volume",
    "fees",
    "rewards",
    "teamlead_shares",
    "profit",
    "disputes",
    "corrections",
    "corrections_amount",
    "corrections_profit",
)
COUNTS = {"orders", "disputes", "corrections"}


def parse_group_by(text: str) -> tuple[str, ...]:
    """`merchant,kind` → the dimension names, in order, once each; an unknown one is a 422."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise Invalid(
            f"Unknown grouping: {', '.join(unknown)}",
            code="report_unknown_group",
            details={"unknown": unknown, "allowed": sorted(DIMENSIONS)},
        )
    return names


def check_range(date_from: dt.date, date_to: dt.date) -> None:
    if date_to < date_from:
        raise Invalid("`to` is before `from`", code="report_range_inverted")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise Invalid(
            f"A report covers at most {MAX_RANGE_DAYS} days",
            code="report_range_too_long",
            details={"max_days": MAX_RANGE_DAYS},
        )


def period_start(dialect: str, column: Any, granularity: Granularity) -> ColumnElement[Any]:
    """The first day (UTC) of the period a timestamp falls in, computed by the database."""
    if dialect == "postgresql":
        return func.date_trunc(granularity.value, func.timezone("UTC", column))
    # SQLite keeps naive UTC text; 'weekday 0' moves to the next Sunday (or stays), so
    # six days back is the ISO week's Monday.
    if granularity == Granularity.week:
        return func.date(column, "weekday 0", "-6 days")
    if granularity == Granularity.month:
        return func.strftime("%Y-%m-01", column)
    return func.date(column)


def _sum(*whens: tuple[ColumnElement[bool], ColumnElement[Any]]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case(*whens, else_=0)), 0)


def report_figures() -> list[ColumnElement[Any]]:
    amount = entries.c.amount_minor
    kind = type_coerce(accounts.c.kind, String)
    settle = postings.c.kind.in_(SETTLE_KINDS)
    correction = postings.c.kind == CORRECTION_KIND
    profit = kind == AccountKind.platform_profit.value
    party = kind.not_in([AccountKind.platform_profit.value, TEAMLEAD_ACCOUNT_KIND])
    payout = type_coerce(orders.c.kind, String) == "payout"
    columns = {
        "orders": func.count(distinct(case((settle, orders.c.id)))),
        "volume": _sum(
            (settle & party & (amount < 0), -amount),
            (settle & payout & profit & (amount > 0), -amount),
        ),
        "fees": _sum((settle & profit & (amount > 0), amount)),
        "rewards": _sum((settle & profit & (amount < 0), -amount)),
        "teamlead_shares": _sum((settle & (kind == TEAMLEAD_ACCOUNT_KIND), amount)),
        "profit": _sum((profit, amount)),
        "disputes": func.count(
            distinct(case((settle & orders.c.disputed_at.is_not(None), orders.c.id)))
        ),
        "corrections": func.count(distinct(case((correction, postings.c.id)))),
        "corrections_amount": _sum((correction & (amount > 0), amount)),
        "corrections_profit": _sum((correction & profit, amount)),
    }
    return [columns[name].label(name) for name in FIGURES]


def turnover_statement(dialect: str, query: TurnoverQuery, *, unrolled: bool = False) -> Any:
    """The one SELECT … GROUP BY: entries ⋈ postings ⋈ accounts ⋈ orders (`unrolled`: of the
    postings not yet in the daily rows only, found by `ix_ledger_postings_unrolled`)."""
    period = period_start(dialect, postings.c.created_at, query.granularity).label("period")
    grouped = [DIMENSIONS[name].value.label(f"g_{name}") for name in query.group_by]
    source: FromClause = (
        entries.join(postings, postings.c.id == entries.c.posting_id)
        .join(accounts, accounts.c.id == entries.c.account_id)
        .join(orders, orders.c.id == postings.c.order_id)
    )
    for name in dict.fromkeys([*query.group_by, *query.filters]):
        source = DIMENSIONS[name].join(source)
    start = dt.datetime.combine(query.date_from, dt.time(), dt.UTC)
    end = dt.datetime.combine(query.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
    keys = [period, orders.c.currency, *grouped]
    return (
        select(*keys, *report_figures())
        .select_from(source)
        .where(
            postings.c.created_at >= start,
            postings.c.created_at < end,
            postings.c.kind.in_([*SETTLE_KINDS, CORRECTION_KIND]),
            # The order currency's legs only: a converted party's legs in its own currency
            # mirror legs already counted here (on the FX account).
            accounts.c.currency == orders.c.currency,
            *(DIMENSIONS[name].value == value for name, value in query.filters.items()),
            *([UNROLLED_POSTINGS] if unrolled else []),
        )
        .group_by(*keys)
        .order_by(*keys)
    )


def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def label(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(getattr(value, "value", value))


def totals(lines: Sequence[TurnoverLine]) -> dict[str, dict[str, int]]:
    """Per currency: every figure summed over the rows (each order is in one row only)."""
    result: dict[str, dict[str, int]] = {}
    for line in lines:
        into = result.setdefault(line.currency, dict.fromkeys(FIGURES, 0))
        for name, value in line.figures.items():
            into[name] += value
    return dict(sorted(result.items()))
