"""Loan payments, total debt, next payment and DSTI on hand-worked numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from analytics.debt import (
    annuity_payment_minor,
    loans_with_accounts,
    remaining_payments,
    summarise_debt,
)
from analytics.dsti import (
    BAND_CAUTION,
    BAND_CRITICAL,
    BAND_FINE,
    BAND_HIGH,
    BAND_UNKNOWN,
    dsti_band,
    dsti_percent,
)
from analytics.figures import SOURCE_AGREEMENT, SOURCE_ESTIMATE
from analytics.inputs import AnalyticsSettings, LoanInput
from tests.analytics.analytics_builders import account

TODAY = date(2025, 6, 15)


def loan(
    outstanding: int,
    rate: Decimal | None,
    end: date | None,
    agreement_id: str = "agr-1",
    **extra: object,
) -> LoanInput:
    return LoanInput(
        agreement_id=agreement_id,
        bank_code="abank",
        product_name=f"Loan {agreement_id}",
        outstanding_minor=outstanding,
        annual_rate=rate,
        end_date=end,
        rate_source="agreement" if rate is not None else "estimate",
        outstanding_source="account_balance",
        **extra,  # type: ignore[arg-type]
    )


def test_annuity_one_million_at_12_percent_for_24_months() -> None:
    # r = 0.01; P = 1 000 000 · 0.01 / (1 − 1.01^−24) = 47 073.4722… → 47 073.47 RUB
    assert annuity_payment_minor(100_000_000, Decimal(12), 24) == 4_707_347


def test_annuity_120k_at_24_percent_for_12_months() -> None:
    # r = 0.02; P = 120 000 · 0.02 / (1 − 1.02^−12) = 11 347.1515… → 11 347.15 RUB
    assert annuity_payment_minor(12_000_000, Decimal(24), 12) == 1_134_715


def test_annuity_zero_rate_is_principal_over_months() -> None:
    assert annuity_payment_minor(50_000_000, Decimal(0), 10) == 5_000_000
    # 100.00 over 3 months = 33.333… → 33.33 (ROUND_HALF_UP)
    assert annuity_payment_minor(10_000, Decimal(0), 3) == 3_333


def test_annuity_needs_at_least_one_month() -> None:
    # n = 0 is treated as 1: everything plus one month's interest (1%) is due.
    assert annuity_payment_minor(100_000, Decimal(12), 0) == 101_000


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        (date(2027, 6, 14), 24),  # Jun 14 2025 passed: Jul 2025 … Jun 2027
        (date(2027, 6, 15), 25),  # a payment due today is still to pay: Jun 2025 … Jun 2027
        (date(2027, 6, 20), 25),  # Jun 20 2025 is still ahead
        (date(2025, 1, 1), 1),  # ended: at least 1
    ],
)
def test_remaining_payments_from_end_date(end: date, expected: int) -> None:
    assert remaining_payments(end, TODAY) == expected


@pytest.mark.parametrize(
    ("payments", "income", "band"),
    [
        (2_999, 10_000, BAND_FINE),
        (3_000, 10_000, BAND_CAUTION),
        (5_000, 10_000, BAND_CAUTION),
        (5_001, 10_000, BAND_HIGH),
        (8_000, 10_000, BAND_HIGH),
        (8_001, 10_000, BAND_CRITICAL),
        (1, 0, BAND_UNKNOWN),
        (0, 0, BAND_FINE),
    ],
)
def test_dsti_bands_at_boundaries(payments: int, income: int, band: str) -> None:
    assert dsti_band(payments, income) == band


def test_dsti_percent_rounds_half_up() -> None:
    # 1 / 8 = 12.5% exactly; 1 / 3 = 33.33…% → 33.3; 2 / 3 = 66.66…% → 66.7
    assert dsti_percent(1, 8) == Decimal("12.5")
    assert dsti_percent(1, 3) == Decimal("33.3")
    assert dsti_percent(2, 3) == Decimal("66.7")
    assert dsti_percent(5, 0) is None


def test_debt_summary_with_loan_and_credit_card() -> None:
    loans = [loan(100_000_000, Decimal(12), date(2027, 6, 14))]
    accounts = [account("card-1", "Card", available=-3_000_000)]
    result = summarise_debt(loans, accounts, 15_000_000, TODAY, AnalyticsSettings(), "RUB")

    # 1 000 000.00 loan + 30 000.00 used on the card
    assert result.total_debt.value == 103_000_000
    # 47 073.47 annuity + 5% of 30 000.00 card debt (1 500.00)
    assert result.monthly_payments.value == 4_707_347 + 150_000
    # 48 573.47 / 150 000.00 = 32.38…% → caution
    assert result.dsti.value == Decimal("32.4")
    assert result.dsti_band == BAND_CAUTION
    assert result.next_payment.value == date(2025, 7, 14)  # the 14th has passed in June
    assert result.next_payment.inputs["amount_minor"] == 4_707_347


def test_next_payment_is_earliest_across_loans() -> None:
    loans = [
        loan(10_000_000, Decimal(10), date(2026, 3, 28), "late-in-month"),
        loan(5_000_000, Decimal(10), date(2026, 1, 20), "earlier"),
    ]
    result = summarise_debt(loans, [], 0, TODAY, AnalyticsSettings(), "RUB")
    assert result.next_payment.value == date(2025, 6, 20)
    assert result.next_payment.inputs["agreement_id"] == "earlier"
    # income unknown while payments exist: no ПДН, band says so
    assert result.dsti.value is None
    assert result.dsti_band == BAND_UNKNOWN


def test_no_loans_means_zero_debt_and_fine_dsti() -> None:
    result = summarise_debt([], [account()], 10_000_000, TODAY, AnalyticsSettings(), "RUB")
    assert result.total_debt.value == 0
    assert result.dsti.value == Decimal("0.0")
    assert result.dsti_band == BAND_FINE
    assert result.next_payment.value is None
    assert "0%" in result.dsti.explanation


def test_missing_rate_and_end_date_are_estimates() -> None:
    settings = AnalyticsSettings(fallback_loan_rate_pct=Decimal(12), fallback_loan_term_months=24)
    view = summarise_debt([loan(100_000_000, None, None)], [], 0, TODAY, settings, "RUB").loans[0]
    assert view.monthly_payment.value == 4_707_347
    assert view.monthly_payment.source == SOURCE_ESTIMATE
    assert view.annual_rate.source == SOURCE_ESTIMATE
    assert view.next_due.value == date(2025, 7, 15)


def test_agreement_numbers_say_agreement() -> None:
    view = summarise_debt(
        [loan(100_000_000, Decimal(12), date(2027, 6, 15))],
        [],
        0,
        TODAY,
        AnalyticsSettings(),
        "RUB",
    ).loans[0]
    # due today and not yet paid: 25 payments, the first today
    assert view.remaining_months.value == 25
    assert view.next_due.value == TODAY
    assert view.remaining_months.source == SOURCE_AGREEMENT
    assert view.outstanding.source == "account_balance"


def test_loan_account_without_agreement_is_debt_once() -> None:
    accounts = [
        account("loan-1", "Loan", available=50_000_000, bank="abank"),
        account("loan-2", "Loan", available=20_000_000, bank="abank"),
    ]
    agreements = [loan(50_000_000, Decimal(12), date(2026, 6, 15), account_id="loan-1")]
    merged = loans_with_accounts(agreements, accounts)
    assert sorted(m.outstanding_minor for m in merged) == [20_000_000, 50_000_000]
    assert sum(m.outstanding_minor for m in merged) == 70_000_000
