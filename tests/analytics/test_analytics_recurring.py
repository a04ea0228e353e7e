"""Recurring bills: similar amounts, monthly rhythm, next due date and status."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from analytics.categories import DEFAULT_RULES, categorise_all
from analytics.inputs import TransactionInput
from analytics.recurring import (
    STATUS_DUE,
    STATUS_OVERDUE,
    STATUS_SCHEDULED,
    bill_due_dates,
    detect_recurring,
)
from tests.analytics.analytics_builders import at, tx


def categorised(txs: list[TransactionInput]) -> list[TransactionInput]:
    return categorise_all(txs, DEFAULT_RULES)


def test_monthly_rent_with_varying_utilities_is_one_bill() -> None:
    # 30 000, 32 000, 31 000, 33 000 RUB: largest is 10% over the smallest (< 15%).
    amounts = [3_000_000, 3_200_000, 3_100_000, 3_300_000]
    txs = [
        tx(f"2025-{m:02d}-05", -a, "🏠 ЖКХ/Аренда", counterparty="ООО Домострой")
        for m, a in zip((3, 4, 5, 6), amounts, strict=True)
    ]
    bills = detect_recurring(categorised(txs), at("2025-06-20"))
    assert len(bills) == 1
    bill = bills[0]
    assert bill.payee == "ооо домострой"
    assert bill.category == "rent_utilities"
    assert bill.occurrences == 4
    # median of 30, 31, 32, 33 thousand = 31 500.00
    assert bill.typical_minor == 3_150_000
    assert (bill.next_due, bill.status) == (date(2025, 7, 5), STATUS_SCHEDULED)
    assert bill_due_dates(bill, date(2025, 9, 1)) == [date(2025, 7, 5), date(2025, 8, 5)]


def test_amounts_outside_tolerance_are_different_series() -> None:
    txs = [
        tx("2025-04-10", -100_000, "Подписка", counterparty="Stream"),
        tx("2025-05-10", -100_000, "Подписка", counterparty="Stream"),
        tx("2025-06-10", -120_000, "Подписка", counterparty="Stream"),  # +20%
    ]
    bills = detect_recurring(categorised(txs), at("2025-06-20"))
    assert [(b.typical_minor, b.occurrences) for b in bills] == [(100_000, 2)]
    # with a looser tolerance the June payment joins the series
    loose = detect_recurring(categorised(txs), at("2025-06-20"), tolerance=Decimal("0.25"))
    assert [(b.occurrences, b.next_due) for b in loose] == [(3, date(2025, 7, 10))]


def test_weekly_groceries_and_one_offs_are_not_bills() -> None:
    weekly = [tx(f"2025-06-{d:02d}", -300_000, "🛒 Продукты") for d in (2, 9, 16, 23, 30)]
    once = [tx("2025-06-11", -5_000_000, "Ремонт", counterparty="Мастер")]
    assert detect_recurring(categorised(weekly + once), at("2025-07-01")) == []


def test_bill_past_its_date_is_due_then_overdue_then_stopped() -> None:
    txs = categorised(
        [
            tx("2025-03-01", -99_900, "Интернет", counterparty="Провайдер"),
            tx("2025-04-01", -99_900, "Интернет", counterparty="Провайдер"),
        ]
    )
    due = detect_recurring(txs, at("2025-05-03"))[0]
    assert (due.status, due.next_due) == (STATUS_DUE, date(2025, 5, 3))
    overdue = detect_recurring(txs, at("2025-05-20"))[0]
    assert (overdue.status, overdue.next_due) == (STATUS_OVERDUE, date(2025, 5, 20))
    assert detect_recurring(txs, at("2025-06-10")) == []


def test_day_of_month_clamps_to_short_months() -> None:
    txs = categorised(
        [
            tx("2024-12-31", -50_000, "Связь", counterparty="Оператор"),
            tx("2025-01-31", -50_000, "Связь", counterparty="Оператор"),
        ]
    )
    assert detect_recurring(txs, at("2025-02-10"))[0].next_due == date(2025, 2, 28)


def test_own_transfers_and_credits_are_never_bills() -> None:
    txs = []
    for month in (4, 5, 6):
        txs.append(tx(f"2025-{month:02d}-03", -1_000_000, "Перевод", account="acc-1"))
        txs.append(tx(f"2025-{month:02d}-03", 1_000_000, "Перевод", account="sav-1"))
    assert detect_recurring(categorised(txs), at("2025-06-10")) == []
