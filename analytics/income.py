"""Income and spending: monthly income, regular income, salary rhythm, spending, summaries.

All functions take one currency's transactions, already categorised (see
`categories.categorise_all`). Own transfers are neither income nor spending. Booked and
pending rows both count (deduplication already dropped a pending row once booked).
Dates are calendar dates in the timezone of `as_of`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from analytics.categories import OWN_TRANSFER, SALARY
from analytics.dates import add_months, full_months_before, local_date, month_key, next_on_day
from analytics.inputs import TransactionInput
from analytics.money import divide_minor, median_minor

PERIODS = {"30d": 30, "90d": 90}
# Salary paid a few days early or late (weekends, holidays) still belongs to the same payday.
PAYDAY_SPREAD_DAYS = 3


def require_single_currency(txs: Sequence[TransactionInput]) -> None:
    """Guard: amounts in different currencies are never added together."""
    currencies = {tx.currency for tx in txs}
    if len(currencies) > 1:
        raise ValueError(f"one currency at a time, got {sorted(currencies)}")


def is_income(tx: TransactionInput) -> bool:
    return tx.amount_minor > 0 and tx.category != OWN_TRANSFER


def is_spending(tx: TransactionInput) -> bool:
    return tx.amount_minor < 0 and tx.category != OWN_TRANSFER


def monthly_income(txs: Sequence[TransactionInput], as_of: datetime) -> dict[str, int]:
    """Credits that are not own transfers, summed by calendar month ("YYYY-MM")."""
    require_single_currency(txs)
    totals: dict[str, int] = defaultdict(int)
    for tx in txs:
        if is_income(tx) and tx.booked_at <= as_of:
            totals[month_key(local_date(tx.booked_at, as_of.tzinfo))] += tx.amount_minor
    return dict(sorted(totals.items()))


def spending_by_category_month(
    txs: Sequence[TransactionInput], as_of: datetime
) -> dict[str, dict[str, int]]:
    """Debits that are not own transfers: month → category → amount (positive minor units)."""
    require_single_currency(txs)
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for tx in txs:
        if is_spending(tx) and tx.booked_at <= as_of:
            month = month_key(local_date(tx.booked_at, as_of.tzinfo))
            table[month][tx.category or "other"] -= tx.amount_minor
    return {m: dict(sorted(c.items())) for m, c in sorted(table.items())}


def spending_by_day(
    txs: Sequence[TransactionInput], as_of: datetime, days: int = 30
) -> dict[str, int]:
    """Spending per calendar day for the `days` days ending on as_of's date (zeros kept)."""
    require_single_currency(txs)
    today = local_date(as_of, as_of.tzinfo)
    per_day = {(today - timedelta(days=i)).isoformat(): 0 for i in range(days - 1, -1, -1)}
    for tx in txs:
        day = local_date(tx.booked_at, as_of.tzinfo).isoformat()
        if is_spending(tx) and day in per_day and tx.booked_at <= as_of:
            per_day[day] -= tx.amount_minor
    return per_day


def covered_full_months(txs: Sequence[TransactionInput], as_of: datetime, count: int) -> list[str]:
    """Up to `count` full months before as_of's month that the history fully covers.

    History starts at the earliest transaction; its month counts only if that is the 1st,
    because a month seen in part would understate income and spending.
    """
    if not txs:
        return []
    tz = as_of.tzinfo
    first = min(local_date(tx.booked_at, tz) for tx in txs)
    first_full = first if first.day == 1 else add_months(first, 1, 1)
    months = full_months_before(local_date(as_of, tz), count)
    return [m for m in months if m >= month_key(first_full)]


@dataclass(frozen=True)
class RegularIncome:
    amount_minor: int
    months: tuple[str, ...]
    monthly_totals: dict[str, int]
    source: str  # "salary" | "all_credits" | "none"


def regular_income(
    txs: Sequence[TransactionInput], as_of: datetime, max_months: int = 6
) -> RegularIncome:
    """Median of monthly salary-like credits over the last 3–6 covered full months.

    Salary-like means categorised `salary`; with none in the window, all non-transfer
    credits are used instead (and the source says so). Months without salary count as 0.
    """
    months = covered_full_months(txs, as_of, max_months)
    for source, wanted in (("salary", _is_salary), ("all_credits", is_income)):
        totals = {m: 0 for m in months}
        for tx in txs:
            month = month_key(local_date(tx.booked_at, as_of.tzinfo))
            if wanted(tx) and month in totals:
                totals[month] += tx.amount_minor
        if any(totals.values()):
            return RegularIncome(median_minor(totals.values()), tuple(months), totals, source)
    return RegularIncome(0, tuple(months), {m: 0 for m in months}, "none")


def _is_salary(tx: TransactionInput) -> bool:
    return is_income(tx) and tx.category == SALARY


@dataclass(frozen=True)
class Payday:
    day: int  # day of month
    typical_minor: int
    last_seen: date
    occurrences: int


def salary_paydays(txs: Sequence[TransactionInput], as_of: datetime) -> list[Payday]:
    """Paydays from the last 3 full months of salary credits (and the current month).

    Credits within PAYDAY_SPREAD_DAYS of each other by day of month form one payday
    (e.g. an advance on the 10th and the rest on the 25th are two); a payday must recur
    in at least 2 months unless only one month of salary is known.
    """
    today = local_date(as_of, as_of.tzinfo)
    since = add_months(today, -3, 1)
    credits = sorted(
        (local_date(tx.booked_at, as_of.tzinfo), tx.amount_minor)
        for tx in txs
        if _is_salary(tx) and since <= local_date(tx.booked_at, as_of.tzinfo) <= today
    )
    months_seen = {month_key(day) for day, _ in credits}
    paydays = []
    for group in _group_by_day_of_month(credits):
        if len({month_key(d) for d, _ in group}) >= min(2, len(months_seen)):
            days = sorted(d.day for d, _ in group)
            paydays.append(
                Payday(
                    day=days[(len(days) - 1) // 2],
                    typical_minor=median_minor(a for _, a in group),
                    last_seen=max(d for d, _ in group),
                    occurrences=len(group),
                )
            )
    return sorted(paydays, key=lambda p: p.day)


def _group_by_day_of_month(credits: Iterable[tuple[date, int]]) -> list[list[tuple[date, int]]]:
    groups: list[list[tuple[date, int]]] = []
    for credit in sorted(credits, key=lambda c: c[0].day):
        if groups and credit[0].day - groups[-1][-1][0].day <= PAYDAY_SPREAD_DAYS:
            groups[-1].append(credit)
        else:
            groups.append([credit])
    return groups


def next_payday_date(payday: Payday, today: date) -> date:
    """Next date of this payday on or after today, not within the spread of the last one."""
    start = max(today, payday.last_seen + timedelta(days=PAYDAY_SPREAD_DAYS + 1))
    return next_on_day(payday.day, start)


def next_income_date(
    paydays: Sequence[Payday], today: date, default_days: int = 30
) -> tuple[date, str]:
    """(date, source): the earliest next payday, or today + default_days as an estimate."""
    if not paydays:
        return today + timedelta(days=default_days), "estimate"
    return min(next_payday_date(p, today) for p in paydays), "salary_rhythm"


def expected_income(paydays: Sequence[Payday], today: date, until: date) -> list[tuple[date, int]]:
    """Predicted salary credits (date, amount) from today until `until` (exclusive)."""
    events = []
    for payday in paydays:
        day = next_payday_date(payday, today)
        while day < until:
            events.append((day, payday.typical_minor))
            day = add_months(day, 1, payday.day)
    return sorted(events)


def average_monthly_spending(
    txs: Sequence[TransactionInput], as_of: datetime, max_months: int = 3
) -> tuple[int, tuple[str, ...]]:
    """(average monthly spending, months used) over the last covered full months."""
    months = covered_full_months(txs, as_of, max_months)
    if not months:
        return 0, ()
    table = spending_by_category_month(txs, as_of)
    total = sum(sum(table.get(m, {}).values()) for m in months)
    return divide_minor(total, len(months)), tuple(months)


@dataclass(frozen=True)
class PeriodSummary:
    period: str
    start: date
    end: date
    income_minor: int
    spending_minor: int
    net_minor: int
    spending_by_category: dict[str, int]


def summary(txs: Sequence[TransactionInput], period: str, as_of: datetime) -> PeriodSummary:
    """Income, spending and net for "30d", "90d" or "month".

    "Last 30 days" means the 30 calendar days ending on as_of's date (today included), the
    same days `spending_by_day` lists, so a period's spending is the sum of its days.
    """
    require_single_currency(txs)
    if period == "month":
        start = as_of.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif period in PERIODS:
        first_day = local_date(as_of, as_of.tzinfo) - timedelta(days=PERIODS[period] - 1)
        start = datetime.combine(first_day, time.min, tzinfo=as_of.tzinfo)
    else:
        raise ValueError(f"unknown period {period!r}; expected 30d, 90d or month")
    window = [tx for tx in txs if start <= tx.booked_at <= as_of]
    income = sum(tx.amount_minor for tx in window if is_income(tx))
    by_category: dict[str, int] = defaultdict(int)
    for tx in window:
        if is_spending(tx):
            by_category[tx.category or "other"] -= tx.amount_minor
    spending = sum(by_category.values())
    end = local_date(as_of, as_of.tzinfo)
    return PeriodSummary(
        period,
        local_date(start, as_of.tzinfo),
        end,
        income,
        spending,
        income - spending,
        dict(sorted(by_category.items())),
    )
