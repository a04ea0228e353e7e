"""Recurring bills: debits of similar amount to the same payee on a monthly rhythm.

Definitions (documented because they decide what the user sees as a "bill"):
- Same payee: the counterparty, else the merchant name, else the category (generic
  categories — other, transfers, cash — are too broad to group by alone).
- Similar amount: within a series the largest payment is at most `tolerance` (default
  15%) above the smallest; payments are clustered greedily from the smallest up.
- Monthly rhythm: at least 2 occurrences, the median gap between them 25–35 days and no
  gap under 20 days (two payments in one cycle is not a monthly bill).
- Next due date: the last payment plus one month, on the series' median day of month.
  Up to `grace_days` past that date the bill is "due" (expected today); later it is
  "overdue" (still counted as due today); more than a month past, the series has stopped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise

from analytics.categories import CASH, OTHER, OWN_TRANSFER, TRANSFERS
from analytics.dates import add_months, local_date, monthly_dates
from analytics.inputs import TransactionInput, TxKey
from analytics.money import median_minor

MIN_MEDIAN_GAP_DAYS = 25
MAX_MEDIAN_GAP_DAYS = 35
MIN_GAP_DAYS = 20
STOPPED_AFTER_DAYS = 31
_TOO_GENERIC = {OTHER, TRANSFERS, CASH, OWN_TRANSFER}

STATUS_SCHEDULED = "scheduled"
STATUS_DUE = "due"
STATUS_OVERDUE = "overdue"


@dataclass(frozen=True)
class RecurringBill:
    payee: str
    category: str
    currency: str
    typical_minor: int  # positive amount, median of the series
    day_of_month: int
    occurrences: int
    last_date: date
    next_due: date
    status: str
    tx_keys: tuple[TxKey, ...]


def payee_key(tx: TransactionInput) -> str | None:
    """What "the same counterparty / category" means for grouping a debit."""
    for name in (tx.counterparty, tx.merchant_name):
        if name and name.strip():
            return " ".join(name.casefold().split())
    if tx.category and tx.category not in _TOO_GENERIC:
        return f"category:{tx.category}"
    return None


def detect_recurring(
    txs: Sequence[TransactionInput],
    as_of: datetime,
    tolerance: Decimal = Decimal("0.15"),
    grace_days: int = 5,
) -> list[RecurringBill]:
    """Active recurring bills in the transactions, soonest due first."""
    groups: dict[tuple[str, str], list[TransactionInput]] = defaultdict(list)
    for tx in txs:
        key = payee_key(tx)
        if tx.amount_minor < 0 and tx.category != OWN_TRANSFER and key and tx.booked_at <= as_of:
            groups[(tx.currency, key)].append(tx)
    today = local_date(as_of, as_of.tzinfo)
    bills = []
    for (_, payee), group in sorted(groups.items()):
        for series in _similar_amounts(group, tolerance):
            bill = _monthly_bill(payee, series, today, grace_days, as_of)
            if bill is not None:
                bills.append(bill)
    return sorted(bills, key=lambda b: (b.next_due, b.payee))


def _similar_amounts(
    group: Sequence[TransactionInput], tolerance: Decimal
) -> list[list[TransactionInput]]:
    clusters: list[list[TransactionInput]] = []
    for tx in sorted(group, key=lambda t: (-t.amount_minor, t.booked_at)):
        smallest = -clusters[-1][0].amount_minor if clusters else 0
        if clusters and Decimal(-tx.amount_minor) <= Decimal(smallest) * (1 + tolerance):
            clusters[-1].append(tx)
        else:
            clusters.append([tx])
    return clusters


def _monthly_bill(
    payee: str,
    series: list[TransactionInput],
    today: date,
    grace_days: int,
    as_of: datetime,
) -> RecurringBill | None:
    if len(series) < 2:
        return None
    dated = sorted(series, key=lambda t: t.booked_at)
    days = [local_date(t.booked_at, as_of.tzinfo) for t in dated]
    gaps = [(b - a).days for a, b in pairwise(days)]
    median_gap = sorted(gaps)[(len(gaps) - 1) // 2]
    if not MIN_MEDIAN_GAP_DAYS <= median_gap <= MAX_MEDIAN_GAP_DAYS or min(gaps) < MIN_GAP_DAYS:
        return None
    day_of_month = sorted(d.day for d in days)[(len(days) - 1) // 2]
    expected = add_months(days[-1], 1, day_of_month)
    late_by = (today - expected).days
    if late_by > STOPPED_AFTER_DAYS:
        return None
    status = STATUS_SCHEDULED if late_by <= 0 else STATUS_DUE
    if late_by > grace_days:
        status = STATUS_OVERDUE
    return RecurringBill(
        payee=payee,
        category=dated[-1].category or OTHER,
        currency=dated[-1].currency,
        typical_minor=median_minor(-t.amount_minor for t in dated),
        day_of_month=day_of_month,
        occurrences=len(dated),
        last_date=days[-1],
        next_due=max(expected, today),
        status=status,
        tx_keys=tuple(t.key for t in dated),
    )


def bill_due_dates(bill: RecurringBill, until: date) -> list[date]:
    """Every due date of the bill from its next due date until `until` (exclusive)."""
    return monthly_dates(bill.next_due, until, bill.day_of_month)
