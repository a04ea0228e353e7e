"""The turnover report's API shapes: rows of ledger figures per period and group."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlmodel import SQLModel


class Granularity(StrEnum):
    day = "day"
    week = "week"  # ISO weeks: the period is the Monday
    month = "month"


class TurnoverFigures(SQLModel):
    """Ledger figures in the orders' own currency, decimal strings in major units."""

    orders: int
    volume: str
    fees: str
    rewards: str
    teamlead_shares: str
    profit: str
    disputes: int
    corrections: int
    corrections_amount: str
    corrections_profit: str


class TurnoverRow(TurnoverFigures):
    # The first day of the period (UTC): the day, the ISO week's Monday or the month's 1st.
    period: dt.date
    currency: str
    # The grouping dimensions asked for (`merchant`, `store`, …) and their ids or values.
    group: dict[str, str | None]


class TurnoverTotal(TurnoverFigures):
    currency: str


class TurnoverReport(SQLModel):
    date_from: dt.date
    date_to: dt.date
    granularity: Granularity
    group_by: list[str]
    # Every amount is in the currency of the orders it comes from (`order`), never
    # converted: a store or trader settling in another currency is counted at its order's
    # amount, read off the ledger's legs in the order currency.
    amounts_in: str = "order_currency"
    rows: list[TurnoverRow]
    totals: list[TurnoverTotal]
