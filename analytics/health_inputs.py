"""Gather the health score's inputs from a user's accounts, transactions and loans.

Uses the primary currency's figures (scores are ratios, so other currencies add nothing
without an exchange rate) except for counts — overdue loans and negative balances — which
are currency-free and taken across all accounts and loans.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from analytics.categories import ESSENTIAL_CATEGORIES, LOAN_PAYMENT
from analytics.health import (
    HealthComponent,
    HealthScore,
    bills_on_time,
    health_score,
    liquid_savings,
    manageable_debt,
    savings_trend,
    spend_vs_income,
)
from analytics.income import covered_full_months, monthly_income, spending_by_category_month
from analytics.inputs import (
    DEPOSIT,
    LIQUID,
    AccountInput,
    AnalyticsSettings,
    LoanInput,
    TransactionInput,
    account_class,
)
from analytics.money import divide_minor
from analytics.recurring import STATUS_OVERDUE
from analytics.results import CurrencySnapshot

TREND_MONTHS = 3
ESSENTIAL_MONTHS = 3


def assess_health(
    section: CurrencySnapshot,
    accounts: Sequence[AccountInput],
    txs: Sequence[TransactionInput],
    loans: Sequence[LoanInput],
    settings: AnalyticsSettings,
    as_of: datetime,
) -> HealthScore:
    """Health score from the primary currency's section plus account and loan counts."""
    months = covered_full_months(txs, as_of, settings.history_months)
    income_by_month = monthly_income(txs, as_of)
    spend_table = spending_by_category_month(txs, as_of)
    income = sum(income_by_month.get(m, 0) for m in months)
    spending = sum(sum(spend_table.get(m, {}).values()) for m in months)
    liquid = section.liquid_available.value
    regular = section.regular_income.value
    return health_score(
        [
            spend_vs_income(income, spending, len(months)),
            bills_on_time(
                _overdue_loans(section, loans), _negative_balances(accounts), len(accounts)
            ),
            liquid_savings(
                liquid if isinstance(liquid, int) else 0, _essential_monthly(txs, as_of)
            ),
            _savings_trend(
                section, accounts, txs, as_of, regular if isinstance(regular, int) else 0
            ),
            manageable_debt(section.debt.dsti_band, _decimal_or_none(section.debt.dsti.value)),
        ]
    )


def _overdue_loans(section: CurrencySnapshot, loans: Sequence[LoanInput]) -> int:
    """Loans the bank reports overdue, or loan-payment series that stopped arriving on time.

    The larger of the two counts, since both may describe the same loan.
    """
    reported = sum(1 for loan in loans if loan.days_overdue > 0)
    observed = sum(
        1
        for bill in section.recurring_bills
        if bill.category == LOAN_PAYMENT and bill.status == STATUS_OVERDUE
    )
    return max(reported, observed)


def _negative_balances(accounts: Sequence[AccountInput]) -> int:
    return sum(1 for a in accounts if account_class(a) == LIQUID and a.available_minor < 0)


def _essential_monthly(txs: Sequence[TransactionInput], as_of: datetime) -> int:
    months = covered_full_months(txs, as_of, ESSENTIAL_MONTHS)
    table = spending_by_category_month(txs, as_of)
    total = sum(
        amount
        for m in months
        for category, amount in table.get(m, {}).items()
        if category in ESSENTIAL_CATEGORIES
    )
    return divide_minor(total, len(months)) if months else 0


def _savings_trend(
    section: CurrencySnapshot,
    accounts: Sequence[AccountInput],
    txs: Sequence[TransactionInput],
    as_of: datetime,
    regular_income_minor: int,
) -> HealthComponent:
    """Net flow into savings and deposit accounts over the last 3 months = balance growth."""
    saving = {
        (a.bank_code, a.account_id)
        for a in accounts
        if a.currency == section.currency
        and (account_class(a) == DEPOSIT or a.sub_type.lower() == "savings")
    }
    since = as_of - timedelta(days=30 * TREND_MONTHS)
    net = sum(
        tx.amount_minor for tx in txs if tx.account_key in saving and since < tx.booked_at <= as_of
    )
    return savings_trend(net, TREND_MONTHS, regular_income_minor, bool(saving))


def _decimal_or_none(value: object) -> Decimal | None:
    return value if isinstance(value, Decimal) else None
