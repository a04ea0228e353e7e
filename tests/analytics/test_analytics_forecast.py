"""30-day cashflow forecast and its lowest point."""

from __future__ import annotations

from datetime import date

from analytics.categories import DEFAULT_RULES, categorise_all
from analytics.forecast import daily_discretionary_spending, forecast_cashflow
from analytics.safe_to_spend import KIND_BILL, ScheduledPayment
from tests.analytics.analytics_builders import at, tx

TODAY = date(2025, 7, 1)


def test_lowest_point_before_payday() -> None:
    # start 10 000; 500/day; rent 8 000 on day 5 (Jul 5); salary 50 000 on day 10 (Jul 10)
    result = forecast_cashflow(
        1_000_000,
        [(date(2025, 7, 10), 5_000_000)],
        [ScheduledPayment(date(2025, 7, 5), 800_000, KIND_BILL, "rent")],
        50_000,
        TODAY,
        "RUB",
    )
    assert len(result.days) == 30
    assert result.days[0].balance_minor == 950_000
    assert result.days[4].balance_minor == -50_000  # 10 000 − 5·500 − 8 000
    # Jul 9: 10 000 − 9·500 − 8 000 = −2 500, the day before salary
    assert result.lowest_date == date(2025, 7, 9)
    assert result.lowest_balance.value == -250_000
    assert result.goes_negative
    assert result.days[9].balance_minor == 4_700_000  # + 50 000 − 500
    assert result.days[-1].balance_minor == 4_700_000 - 20 * 50_000


def test_flat_forecast_reports_the_earliest_lowest_day() -> None:
    result = forecast_cashflow(500, [], [], 0, TODAY, "RUB")
    assert (result.lowest_date, result.lowest_balance.value, result.goes_negative) == (
        TODAY,
        500,
        False,
    )


def test_discretionary_excludes_bills_and_loan_payments() -> None:
    rent = tx("2025-06-05", -3_000_000, "🏠 ЖКХ/Аренда")
    txs = categorise_all(
        [
            tx("2025-04-01", -100, "🛒 Продукты"),  # history starts 91 days back
            rent,
            tx("2025-06-10", -2_000_000, "Погашение кредита"),
            tx("2025-06-12", -899_900, "🛒 Продукты"),
            tx("2025-06-30", 10_000_000, "💼 Зарплата"),
        ],
        DEFAULT_RULES,
    )
    daily = daily_discretionary_spending(txs, {rent.key}, at("2025-06-30", 20))
    # only the 8 999.00 groceries count, over 90 days: 99.99 RUB per day
    assert daily.value == 9_999
    assert daily.inputs == {"discretionary_total_minor": 899_900, "days": 90}
