"""30-day cashflow forecast, day by day.

Day 1 is as_of's date. Each day's closing balance = previous balance + expected salary on
its predicted paydays − predicted recurring bills and loan payments on their due dates −
average daily discretionary spending. The lowest closing balance (earliest on ties) and its
date are reported; a negative lowest point means the user is likely to run short.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from analytics.categories import LOAN_PAYMENT
from analytics.figures import Figure, money
from analytics.income import is_spending
from analytics.inputs import TransactionInput, TxKey
from analytics.money import divide_minor
from analytics.safe_to_spend import ScheduledPayment

HORIZON_DAYS = 30
DISCRETIONARY_LOOKBACK_DAYS = 90


def daily_discretionary_spending(
    txs: Sequence[TransactionInput],
    bill_tx_keys: Collection[TxKey],
    as_of: datetime,
    lookback_days: int = DISCRETIONARY_LOOKBACK_DAYS,
) -> Figure:
    """Average spending per day that is neither a recurring bill nor a loan payment.

    Averaged over the last `lookback_days` days, or fewer when history is shorter.
    """
    since = as_of - timedelta(days=lookback_days)
    total = sum(
        -tx.amount_minor
        for tx in txs
        if since < tx.booked_at <= as_of
        and is_spending(tx)
        and tx.key not in bill_tx_keys
        and tx.category != LOAN_PAYMENT
    )
    first = min((tx.booked_at for tx in txs), default=as_of)
    days = max(1, min(lookback_days, (as_of - max(first, since)).days + 1))
    currency = txs[0].currency if txs else ""
    return money(
        divide_minor(total, days),
        currency,
        "Spending outside bills and loan payments, per day.",
        {"discretionary_total_minor": total, "days": days},
        f"{days}d",
    )


@dataclass(frozen=True)
class ForecastDay:
    day: date
    income_minor: int
    payments_minor: int
    discretionary_minor: int
    balance_minor: int


@dataclass(frozen=True)
class Forecast:
    currency: str
    start_balance_minor: int
    days: tuple[ForecastDay, ...]
    lowest_balance: Figure
    lowest_date: date
    goes_negative: bool


def forecast_cashflow(
    start_balance_minor: int,
    income_events: Sequence[tuple[date, int]],
    payments: Sequence[ScheduledPayment],
    daily_discretionary_minor: int,
    today: date,
    currency: str,
    horizon_days: int = HORIZON_DAYS,
) -> Forecast:
    """Day-by-day balance for `horizon_days` days starting today (see module docstring)."""
    income: dict[date, int] = defaultdict(int)
    for day, amount in income_events:
        income[day] += amount
    outgoing: dict[date, int] = defaultdict(int)
    for payment in payments:
        outgoing[payment.due] += payment.amount_minor
    balance, days = start_balance_minor, []
    for offset in range(horizon_days):
        day = today + timedelta(days=offset)
        balance += income[day] - outgoing[day] - daily_discretionary_minor
        days.append(
            ForecastDay(day, income[day], outgoing[day], daily_discretionary_minor, balance)
        )
    lowest = min(days, key=lambda d: (d.balance_minor, d.day))
    return Forecast(
        currency=currency,
        start_balance_minor=start_balance_minor,
        days=tuple(days),
        lowest_balance=money(
            lowest.balance_minor,
            currency,
            "Lowest predicted closing balance in the next 30 days.",
            {"date": lowest.day, "start_balance_minor": start_balance_minor},
            f"{today.isoformat()}/{(today + timedelta(days=horizon_days - 1)).isoformat()}",
        ),
        lowest_date=lowest.day,
        goes_negative=lowest.balance_minor < 0,
    )
