"""Monthly and regular income, salary rhythm, spending tables, summaries, deduplication."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.categories import DEFAULT_RULES, categorise_all
from analytics.income import (
    average_monthly_spending,
    monthly_income,
    next_income_date,
    regular_income,
    salary_paydays,
    spending_by_category_month,
    spending_by_day,
    summary,
)
from analytics.inputs import TransactionInput, deduplicate
from tests.analytics.analytics_builders import at, tx

AS_OF = at("2025-07-12", 15)


def categorised(txs: list[TransactionInput]) -> list[TransactionInput]:
    return categorise_all(txs, DEFAULT_RULES)


def six_months_of_salary() -> list[TransactionInput]:
    # Salary on the 25th, Jan–Jun 2025: 90k, 100k, 110k, 120k, 95k, 130k RUB.
    amounts = [9_000_000, 10_000_000, 11_000_000, 12_000_000, 9_500_000, 13_000_000]
    history = [tx("2025-01-01", -10_000, "🛒 Продукты")]
    history += [tx(f"2025-{m:02d}-25", a, "💼 Зарплата") for m, a in enumerate(amounts, 1)]
    return history


def test_regular_income_is_median_of_last_six_full_months() -> None:
    result = regular_income(categorised(six_months_of_salary()), AS_OF)
    # sorted: 90, 95, 100, 110, 120, 130 → (100 + 110) / 2 = 105 000.00 RUB
    assert result.amount_minor == 10_500_000
    assert result.months == ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")
    assert result.source == "salary"


def test_regular_income_ignores_months_before_history_and_own_transfers() -> None:
    txs = [
        tx("2025-04-10", -10_000, "🛒 Продукты"),  # history starts mid-April
        tx("2025-04-25", 10_000_000, "💼 Зарплата"),
        tx("2025-05-25", 10_000_000, "💼 Зарплата"),
        tx("2025-06-25", 12_000_000, "💼 Зарплата"),
        # own transfer labelled like salary must not count
        tx("2025-06-26", -5_000_000, "Зарплата", account="acc-1"),
        tx("2025-06-26", 5_000_000, "Зарплата", account="sav-1"),
    ]
    result = regular_income(categorised(txs), AS_OF)
    # April is partial (history starts on the 10th): May 100k and June 120k → 110k
    assert result.months == ("2025-05", "2025-06")
    assert result.amount_minor == 11_000_000


def test_regular_income_falls_back_to_all_credits() -> None:
    txs = [tx("2025-05-01", 5_000_000, "Фриланс"), tx("2025-06-03", 7_000_000, "Фриланс")]
    result = regular_income(categorised(txs), AS_OF)
    assert result.source == "all_credits"
    assert result.amount_minor == 6_000_000


def test_monthly_income_excludes_own_transfers() -> None:
    txs = [
        tx("2025-06-05", 10_000_000, "💼 Зарплата"),
        tx("2025-06-07", -2_000_000, "Перевод", account="acc-1"),
        tx("2025-06-07", 2_000_000, "Перевод", account="acc-2", bank="abank"),
        tx("2025-07-01", 300_000, "Кэшбэк"),
    ]
    assert monthly_income(categorised(txs), AS_OF) == {"2025-06": 10_000_000, "2025-07": 300_000}


def test_next_income_from_two_paydays() -> None:
    txs = []
    for month in (4, 5, 6):
        txs.append(tx(f"2025-{month:02d}-10", 4_000_000, "Аванс"))
        txs.append(tx(f"2025-{month:02d}-25", 6_000_000, "💼 Зарплата"))
    txs.append(tx("2025-07-10", 4_000_000, "Аванс"))
    paydays = salary_paydays(categorised(txs), AS_OF)
    assert [(p.day, p.typical_minor) for p in paydays] == [(10, 4_000_000), (25, 6_000_000)]
    # the advance for July already arrived on the 10th: next is the 25th
    assert next_income_date(paydays, date(2025, 7, 12)) == (date(2025, 7, 25), "salary_rhythm")


def test_salary_paid_early_does_not_predict_it_again_this_month() -> None:
    txs = [
        tx("2025-05-25", 6_000_000, "💼 Зарплата"),
        tx("2025-06-25", 6_000_000, "💼 Зарплата"),
        tx("2025-07-24", 6_000_000, "💼 Зарплата"),  # paid a day early (weekend)
    ]
    as_of = at("2025-07-24", 20)
    paydays = salary_paydays(categorised(txs), as_of)
    assert next_income_date(paydays, date(2025, 7, 24))[0] == date(2025, 8, 25)


def test_no_salary_rhythm_is_an_estimate() -> None:
    assert next_income_date([], date(2025, 7, 12)) == (date(2025, 8, 11), "estimate")


def test_spending_by_category_month_and_day() -> None:
    txs = categorised(
        [
            tx("2025-06-03", -150_000, "🛒 Продукты"),
            tx("2025-06-20", -250_000, "🛒 Продукты"),
            tx("2025-06-05", -3_000_000, "🏠 ЖКХ/Аренда"),
            tx("2025-07-11", -9_900, "Кофе"),
            tx("2025-07-11", 10_000_000, "💼 Зарплата"),
        ]
    )
    assert spending_by_category_month(txs, AS_OF) == {
        "2025-06": {"groceries": 400_000, "rent_utilities": 3_000_000},
        "2025-07": {"restaurants": 9_900},
    }
    by_day = spending_by_day(txs, AS_OF, days=3)
    assert by_day == {"2025-07-10": 0, "2025-07-11": 9_900, "2025-07-12": 0}


def test_summary_periods() -> None:
    txs = categorised(
        [
            tx("2025-04-20", -1_000_000, "🛒 Продукты"),  # only in 90d
            tx("2025-06-25", 10_000_000, "💼 Зарплата"),  # 30d and 90d
            tx("2025-07-02", -500_000, "🛒 Продукты"),  # all three
        ]
    )
    month = summary(txs, "month", AS_OF)
    assert (month.start, month.income_minor, month.spending_minor) == (date(2025, 7, 1), 0, 500_000)
    last30 = summary(txs, "30d", AS_OF)
    assert (last30.income_minor, last30.spending_minor, last30.net_minor) == (
        10_000_000,
        500_000,
        9_500_000,
    )
    assert summary(txs, "90d", AS_OF).spending_by_category == {"groceries": 1_500_000}
    with pytest.raises(ValueError, match="unknown period"):
        summary(txs, "1y", AS_OF)


def test_average_monthly_spending_over_three_full_months() -> None:
    txs = categorised(
        [
            tx("2025-04-01", -3_000_000, "🏠 ЖКХ/Аренда"),
            tx("2025-05-01", -3_000_000, "🏠 ЖКХ/Аренда"),
            tx("2025-06-01", -3_000_000, "🏠 ЖКХ/Аренда"),
            tx("2025-06-15", -100_001, "🛒 Продукты"),
        ]
    )
    # (9 000 000 + 100 001) / 3 = 3 033 333.67 → 3 033 334 kopecks
    assert average_monthly_spending(txs, AS_OF) == (3_033_334, ("2025-04", "2025-05", "2025-06"))


def test_currencies_are_never_mixed() -> None:
    with pytest.raises(ValueError, match="one currency"):
        monthly_income([tx("2025-06-01", 100), tx("2025-06-01", 100, currency="USD")], AS_OF)


def test_deduplicate_replaces_pending_with_booked() -> None:
    pending = tx("2025-07-10", -50_000, "🛒 Продукты", status="pending", tx_id="t-1")
    booked = tx("2025-07-11", -50_000, "🛒 Продукты", status="booked", tx_id="t-1")
    other_bank = tx("2025-07-11", -50_000, "🛒 Продукты", bank="abank", tx_id="t-1")
    rows = deduplicate([pending, booked, other_bank, pending])
    assert len(rows) == 2
    assert {r.status for r in rows} == {"booked"}


@pytest.mark.parametrize(("period", "days"), [("30d", 30), ("90d", 90)])
def test_a_period_summary_is_the_sum_of_its_days(period: str, days: int) -> None:
    """One definition of "the last N days": the N calendar days ending today. A purchase on
    the morning of day N+1 (less than N×24 hours before as_of's afternoon) is outside both."""
    first_day = AS_OF.date().toordinal() - (days - 1)
    inside = date.fromordinal(first_day)
    outside = date.fromordinal(first_day - 1)
    txs = categorised(
        [
            tx(outside, -1_000, "🛒 Продукты", hour=18),
            tx(inside, -2_000, "🛒 Продукты", hour=1),
            tx(AS_OF.date(), -4_000, "🛒 Продукты", hour=9),
        ]
    )
    result = summary(txs, period, AS_OF)
    by_day = spending_by_day(txs, AS_OF, days)
    assert result.start == inside and len(by_day) == days
    assert result.spending_minor == sum(by_day.values()) == 6_000
