"""Assemble every analytics figure for one user at `as_of` into a storable snapshot.

Currencies are never summed: each currency gets its own section, the primary (RUB) first.
The savings goal and the health score use the primary currency. `as_of` comes from the
caller (a workflow's `workflow.now()` or an activity's input), never from the clock here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from analytics.categories import LOAN_PAYMENT, OWN_TRANSFER, CategoryRule, categorise_all
from analytics.dates import local_date
from analytics.debt import DebtSummary, loans_with_accounts, summarise_debt
from analytics.figures import (
    SOURCE_ACCOUNT_BALANCE,
    SOURCE_ESTIMATE,
    SOURCE_TRANSACTIONS,
    Figure,
    money,
)
from analytics.forecast import (
    HORIZON_DAYS,
    Forecast,
    daily_discretionary_spending,
    forecast_cashflow,
)
from analytics.health_inputs import assess_health
from analytics.income import (
    Payday,
    average_monthly_spending,
    expected_income,
    monthly_income,
    next_income_date,
    regular_income,
    salary_paydays,
    spending_by_category_month,
    spending_by_day,
    summary,
)
from analytics.inputs import (
    DEPOSIT,
    LIQUID,
    AccountInput,
    AnalyticsSettings,
    DepositInput,
    LoanInput,
    TransactionInput,
    account_class,
    deduplicate,
    is_loan_account,
    is_spendable,
)
from analytics.recurring import RecurringBill, detect_recurring
from analytics.results import CurrencySnapshot, Snapshot
from analytics.safe_to_spend import (
    SafeToSpend,
    compute_safe_to_spend,
    safety_buffer,
    scheduled_payments,
)

SUMMARY_PERIODS = ("30d", "90d", "month")


def spending_transactions(
    accounts: Sequence[AccountInput],
    txs: Sequence[TransactionInput],
    rules: Sequence[CategoryRule],
    settings: AnalyticsSettings,
) -> list[TransactionInput]:
    """The transactions every income and spending figure is computed from: duplicates
    dropped, loan accounts' own movements left out, categorised (own transfers found)."""
    # Rows on a loan account are the debt's own movements (disbursement, repayment
    # received); the payment already shows as a debit on the paying account.
    loan_accounts = {(a.bank_code, a.account_id) for a in accounts if is_loan_account(a)}
    usable = [t for t in deduplicate(txs) if t.account_key not in loan_accounts]
    return categorise_all(usable, rules, settings.own_transfer_window)


def compute_snapshot(
    accounts: Sequence[AccountInput],
    txs: Sequence[TransactionInput],
    loans: Sequence[LoanInput],
    deposits: Sequence[DepositInput],
    rules: Sequence[CategoryRule],
    settings: AnalyticsSettings,
    as_of: datetime,
) -> Snapshot:
    """Every dashboard figure for one user, per currency, as of `as_of` (tz-aware)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    categorised = spending_transactions(accounts, txs, rules, settings)
    all_loans = loans_with_accounts(loans, accounts)
    sections = {
        currency: _currency_snapshot(
            currency,
            [a for a in accounts if a.currency == currency],
            [t for t in categorised if t.currency == currency],
            [loan for loan in all_loans if loan.currency == currency],
            [d for d in deposits if d.currency == currency],
            settings,
            as_of,
        )
        for currency in _currencies(accounts, categorised, all_loans, deposits, settings)
    }
    primary = settings.primary_currency
    health = assess_health(
        sections[primary],
        accounts,
        [t for t in categorised if t.currency == primary],
        all_loans,
        settings,
        as_of,
    )
    own = sum(1 for t in categorised if t.category == OWN_TRANSFER)
    return Snapshot(as_of, primary, sections, health, own)


def _currencies(
    accounts: Sequence[AccountInput],
    txs: Sequence[TransactionInput],
    loans: Sequence[LoanInput],
    deposits: Sequence[DepositInput],
    settings: AnalyticsSettings,
) -> list[str]:
    seen = {a.currency for a in accounts} | {t.currency for t in txs}
    seen |= {loan.currency for loan in loans} | {d.currency for d in deposits}
    others = sorted(seen - {settings.primary_currency})
    return [settings.primary_currency, *others]


def _currency_snapshot(
    currency: str,
    accounts: Sequence[AccountInput],
    txs: Sequence[TransactionInput],
    loans: Sequence[LoanInput],
    deposits: Sequence[DepositInput],
    settings: AnalyticsSettings,
    as_of: datetime,
) -> CurrencySnapshot:
    today = local_date(as_of, as_of.tzinfo)
    regular = _regular_income(txs, currency, settings, as_of)
    paydays = salary_paydays(txs, as_of)
    next_income = _next_income(paydays, today, settings)
    bills = detect_recurring(txs, as_of, settings.recurring_tolerance, settings.grace_days)
    debt = summarise_debt(loans, accounts, _int(regular.value), today, settings, currency)
    liquid = _liquid_available(accounts, currency)
    spendable = _spendable(accounts, currency, settings)
    spending, sts, forecast = _plan(
        currency, txs, spendable, bills, debt, paydays, next_income, settings, as_of
    )
    return CurrencySnapshot(
        currency=currency,
        liquid_available=liquid,
        deposits=_deposits(accounts, deposits, currency),
        monthly_income=monthly_income(txs, as_of),
        regular_income=regular,
        next_income_date=next_income,
        spending_by_category_month=spending_by_category_month(txs, as_of),
        spending_by_day=spending_by_day(txs, as_of),
        average_monthly_spending=spending,
        summaries={p: summary(txs, p, as_of) for p in SUMMARY_PERIODS},
        recurring_bills=tuple(bills),
        debt=debt,
        safe_to_spend=sts,
        forecast=forecast,
    )


def _plan(
    currency: str,
    txs: Sequence[TransactionInput],
    spendable: dict[str, int],
    bills: Sequence[RecurringBill],
    debt: DebtSummary,
    paydays: Sequence[Payday],
    next_income: Figure,
    settings: AnalyticsSettings,
    as_of: datetime,
) -> tuple[Figure, SafeToSpend, Forecast]:
    """Average spending, Safe-to-Spend until the next income, and the 30-day forecast."""
    today = local_date(as_of, as_of.tzinfo)
    income_day = next_income.value if isinstance(next_income.value, date) else today
    # A known loan's payments come from its agreement; a matching series in the
    # transactions would count it twice.
    schedulable = [b for b in bills if not (debt.loans and b.category == LOAN_PAYMENT)]
    horizon = today + timedelta(days=HORIZON_DAYS)
    payments = scheduled_payments(schedulable, debt.loans, max(income_day, horizon))
    monthly_spend, spend_months = average_monthly_spending(txs, as_of)
    buffer = safety_buffer(monthly_spend, settings, currency)
    goal = settings.savings_goal_minor if currency == settings.primary_currency else 0
    start = sum(spendable.values())
    sts = compute_safe_to_spend(
        start, payments, income_day, goal, _int(buffer.value), today, currency, spendable
    )
    bill_keys = {key for bill in bills for key in bill.tx_keys}
    discretionary = daily_discretionary_spending(txs, bill_keys, as_of)
    forecast = forecast_cashflow(
        start,
        expected_income(paydays, today, horizon),
        [p for p in payments if p.due < horizon],
        _int(discretionary.value),
        today,
        currency,
    )
    spending = money(
        monthly_spend,
        currency,
        "Average monthly spending over the last full months (own transfers excluded).",
        {"months": list(spend_months)},
        f"{len(spend_months)} months",
        SOURCE_TRANSACTIONS,
    )
    return spending, sts, forecast


def _regular_income(
    txs: Sequence[TransactionInput], currency: str, settings: AnalyticsSettings, as_of: datetime
) -> Figure:
    regular = regular_income(txs, as_of, settings.history_months)
    return money(
        regular.amount_minor,
        currency,
        "Median of monthly salary-like credits over the last full months.",
        {"monthly_totals": regular.monthly_totals, "basis": regular.source},
        f"{len(regular.months)} months",
        SOURCE_TRANSACTIONS,
    )


def _next_income(paydays: Sequence[Payday], today: date, settings: AnalyticsSettings) -> Figure:
    days = settings.default_income_interval_days
    value, source = next_income_date(paydays, today, days)
    text = (
        "Next payday from the salary rhythm."
        if source != SOURCE_ESTIMATE
        else f"No salary rhythm found: assumed in {days} days."
    )
    return Figure(value, "date", {"paydays": [p.day for p in paydays]}, None, text, source)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _spendable(
    accounts: Sequence[AccountInput], currency: str, settings: AnalyticsSettings
) -> dict[str, int]:
    """Available balance per account the person can spend from (savings only when they
    said so, deposits never), in this currency."""
    return {
        f"{a.bank_code}/{a.account_id}": a.available_minor
        for a in accounts
        if a.currency == currency and is_spendable(a, settings.spend_savings)
    }


def _liquid_available(accounts: Sequence[AccountInput], currency: str) -> Figure:
    liquid = [a for a in accounts if account_class(a) == LIQUID and a.currency == currency]
    return money(
        sum(a.available_minor for a in liquid),
        currency,
        "Available balance of checking, card and on-demand savings accounts.",
        {f"{a.bank_code}/{a.account_id}": a.available_minor for a in liquid},
        source=SOURCE_ACCOUNT_BALANCE,
    )


def _deposits(
    accounts: Sequence[AccountInput], deposits: Sequence[DepositInput], currency: str
) -> Figure:
    held = {
        f"{a.bank_code}/{a.account_id}": a.booked_minor
        for a in accounts
        if account_class(a) == DEPOSIT
    }
    # Agreements whose linked account is already listed would be counted twice.
    for dep in deposits:
        if f"{dep.bank_code}/{dep.account_id}" not in held:
            held[f"agreement:{dep.bank_code}/{dep.agreement_id}"] = dep.balance_minor
    return money(sum(held.values()), currency, "Deposit balances.", held)
