"""Safe-to-Spend worked examples, including an overspent user."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from analytics.inputs import AnalyticsSettings
from analytics.safe_to_spend import (
    KIND_BILL,
    KIND_LOAN,
    ScheduledPayment,
    compute_safe_to_spend,
    safety_buffer,
)

TODAY = date(2025, 7, 17)
PAYDAY = date(2025, 7, 25)
PAYMENTS = [
    ScheduledPayment(date(2025, 7, 20), 1_500_000, KIND_BILL, "rent"),
    ScheduledPayment(date(2025, 7, 22), 1_000_000, KIND_LOAN, "car loan"),
    # on payday itself: paid from the new salary, not from today's money
    ScheduledPayment(date(2025, 7, 25), 700_000, KIND_BILL, "internet"),
]


def test_buffer_is_ten_percent_of_monthly_spending_by_default() -> None:
    assert safety_buffer(4_000_000, AnalyticsSettings(), "RUB").value == 400_000
    # 10% of 12 345.67 = 1 234.567 → 1 234.57 (ROUND_HALF_UP)
    assert safety_buffer(1_234_567, AnalyticsSettings(), "RUB").value == 123_457
    fixed = AnalyticsSettings(safety_buffer_minor=250_000)
    assert safety_buffer(4_000_000, fixed, "RUB").value == 250_000
    # a fixed buffer is in the primary currency; others keep the percentage
    assert safety_buffer(4_000_000, fixed, "USD").value == 400_000
    assert safety_buffer(1_000, AnalyticsSettings(safety_buffer_pct=Decimal(5)), "RUB").value == 50


def test_safe_to_spend_worked_example() -> None:
    # 50 000 − (15 000 + 10 000) − 5 000 goal − 4 000 buffer = 16 000 RUB over 8 days
    result = compute_safe_to_spend(5_000_000, PAYMENTS, PAYDAY, 500_000, 400_000, TODAY, "RUB")
    assert result.safe_to_spend.value == 1_600_000
    assert result.days_until_income == 8
    assert result.per_day.value == 200_000
    assert not result.overspent
    assert [p.name for p in result.payments_due] == ["rent", "car loan"]
    assert result.safe_to_spend.inputs["bills_and_loans_due_minor"] == 2_500_000
    assert result.message == "You can spend 16 000.00 RUB until 2025-07-25 (2 000.00 RUB a day)."


def test_overspent_user_gets_a_negative_number_and_is_told() -> None:
    # 10 000 − 25 000 − 5 000 − 4 000 = −24 000 RUB; per day −3 000
    result = compute_safe_to_spend(1_000_000, PAYMENTS, PAYDAY, 500_000, 400_000, TODAY, "RUB")
    assert result.safe_to_spend.value == -2_400_000
    assert result.per_day.value == -300_000
    assert result.overspent
    assert result.message.startswith("Overspent")
    assert "24 000.00 RUB" in result.message


def test_income_today_still_divides_by_one_day() -> None:
    result = compute_safe_to_spend(1_000, [], TODAY, 0, 0, TODAY, "RUB")
    assert result.days_until_income == 1
    assert result.per_day.value == 1_000


def test_per_day_rounds_half_up() -> None:
    # 100.00 RUB over 8 days = 12.50 exactly; 100.01 / 8 = 12.50125 → 12.50;
    # 0.12 / 8 = 0.015 → 0.02
    assert compute_safe_to_spend(10_000, [], PAYDAY, 0, 0, TODAY, "RUB").per_day.value == 1_250
    assert compute_safe_to_spend(10_001, [], PAYDAY, 0, 0, TODAY, "RUB").per_day.value == 1_250
    assert compute_safe_to_spend(12, [], PAYDAY, 0, 0, TODAY, "RUB").per_day.value == 2
