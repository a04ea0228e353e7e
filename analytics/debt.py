"""Debt: loan payments (annuity), total debt, next payment and debt-service-to-income.

Monthly payment of a loan: P = S·r / (1 − (1 + r)^−n), S the outstanding amount, r the
annual rate / 12 / 100, n the payments left until the agreement's end date (at least 1);
r = 0 gives S / n. Computed in Decimal (28 digits) and rounded ROUND_HALF_UP to kopecks.
Missing rate or end date fall back to settings and the figure's source says "estimate".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from analytics.dates import add_months, monthly_dates, next_on_day
from analytics.dsti import dsti_band, dsti_figure
from analytics.figures import (
    SOURCE_ACCOUNT_BALANCE,
    SOURCE_AGREEMENT,
    SOURCE_COMPUTED,
    SOURCE_ESTIMATE,
    Figure,
    money,
)
from analytics.inputs import (
    LIABILITY,
    AccountInput,
    AnalyticsSettings,
    LoanInput,
    account_class,
    is_loan_account,
)
from analytics.money import HUNDRED, percent_of, round_minor


def annuity_payment_minor(principal_minor: int, annual_rate_pct: Decimal, months: int) -> int:
    """Monthly annuity payment in minor units (see the module docstring for the formula)."""
    n = max(months, 1)
    if principal_minor <= 0:
        return 0
    r = Decimal(annual_rate_pct) / HUNDRED / 12
    if r == 0:
        return round_minor(Decimal(principal_minor) / n)
    return round_minor(Decimal(principal_minor) * r / (1 - (1 + r) ** -n))


def remaining_payments(end_date: date, today: date) -> int:
    """Monthly payments left from today to end_date, paid on end_date's day (at least 1)."""
    months = (end_date.year - today.year) * 12 + (end_date.month - today.month)
    if end_date.day >= today.day:
        months += 1
    return max(months, 1)


@dataclass(frozen=True)
class LoanView:
    agreement_id: str
    bank_code: str
    product_name: str
    currency: str
    outstanding: Figure
    annual_rate: Figure
    remaining_months: Figure
    monthly_payment: Figure
    next_due: Figure
    payment_day: int | None
    end_date: date | None
    days_overdue: int


def loans_with_accounts(
    loans: Sequence[LoanInput], accounts: Sequence[AccountInput]
) -> list[LoanInput]:
    """Agreements plus loan accounts no agreement points at (debt from the balance alone)."""
    linked = {(loan.bank_code, loan.account_id) for loan in loans if loan.account_id}
    extra = [
        LoanInput(
            agreement_id=f"account:{acc.account_id}",
            bank_code=acc.bank_code,
            product_name=f"Loan account {acc.account_id}",
            outstanding_minor=abs(acc.booked_minor),
            annual_rate=None,
            end_date=None,
            rate_source=SOURCE_ESTIMATE,
            outstanding_source=SOURCE_ACCOUNT_BALANCE,
            currency=acc.currency,
            account_id=acc.account_id,
        )
        for acc in accounts
        if is_loan_account(acc) and (acc.bank_code, acc.account_id) not in linked
    ]
    return [*loans, *extra]


_RATE_TEXT = "Annual interest rate."
_RATE_ESTIMATE_TEXT = "Rate unknown: the fallback rate from settings is assumed."
_TERM_TEXT = "Monthly payments left until the end date (at least 1)."
_TERM_ESTIMATE_TEXT = "End date unknown: the fallback term from settings is assumed."


def analyse_loan(loan: LoanInput, today: date, settings: AnalyticsSettings) -> LoanView:
    """A loan's outstanding debt, rate, term, monthly payment and next due date, explained."""
    rate, rate_source, months, term_source = _loan_terms(loan, today, settings)
    payment = annuity_payment_minor(loan.outstanding_minor, rate, months)
    estimated = SOURCE_ESTIMATE in (rate_source, term_source)
    inputs = {"outstanding_minor": loan.outstanding_minor, "annual_rate_pct": rate, "n": months}
    return LoanView(
        agreement_id=loan.agreement_id,
        bank_code=loan.bank_code,
        product_name=loan.product_name,
        currency=loan.currency,
        outstanding=money(
            loan.outstanding_minor,
            loan.currency,
            "Outstanding loan balance.",
            source=loan.outstanding_source,
        ),
        annual_rate=Figure(
            rate,
            "percent",
            {},
            None,
            _RATE_ESTIMATE_TEXT if rate_source == SOURCE_ESTIMATE else _RATE_TEXT,
            rate_source,
        ),
        remaining_months=Figure(
            months,
            "months",
            {"end_date": loan.end_date},
            None,
            _TERM_ESTIMATE_TEXT if term_source == SOURCE_ESTIMATE else _TERM_TEXT,
            term_source,
        ),
        monthly_payment=money(
            payment,
            loan.currency,
            "Annuity P = S·r / (1 − (1 + r)^−n), r = annual rate / 12.",
            inputs,
            "month",
            SOURCE_ESTIMATE if estimated else SOURCE_COMPUTED,
        ),
        next_due=_next_due(loan, today, payment),
        payment_day=loan.end_date.day if loan.end_date else None,
        end_date=loan.end_date,
        days_overdue=loan.days_overdue,
    )


def _loan_terms(
    loan: LoanInput, today: date, settings: AnalyticsSettings
) -> tuple[Decimal, str, int, str]:
    """(annual rate %, its source, payments left, its source); settings fill the gaps."""
    rate, rate_source = loan.annual_rate, loan.rate_source
    if rate is None:
        rate, rate_source = settings.fallback_loan_rate_pct, SOURCE_ESTIMATE
    if loan.end_date is None:
        return rate, rate_source, settings.fallback_loan_term_months, SOURCE_ESTIMATE
    return rate, rate_source, remaining_payments(loan.end_date, today), SOURCE_AGREEMENT


def _next_due(loan: LoanInput, today: date, payment: int) -> Figure:
    """Payments fall on the end date's day of month; without an end date, a month from now."""
    inputs = {"amount_minor": payment, "end_date": loan.end_date}
    if loan.outstanding_minor <= 0:
        return Figure(None, "date", inputs, None, "Loan is repaid.", SOURCE_COMPUTED)
    if loan.days_overdue > 0:
        return Figure(today, "date", inputs, None, "Payment is overdue: due now.", SOURCE_AGREEMENT)
    if loan.end_date is None:
        due = add_months(today, 1)
        return Figure(
            due, "date", inputs, None, "No end date: assumed in a month.", SOURCE_ESTIMATE
        )
    due = min(next_on_day(loan.end_date.day, today), max(loan.end_date, today))
    return Figure(
        due, "date", inputs, None, "Next payment on the end date's day of month.", SOURCE_AGREEMENT
    )


def loan_due_dates(loan: LoanView, until: date) -> list[date]:
    """Every payment date of the loan from its next due date until `until` (exclusive)."""
    first = loan.next_due.value
    if not isinstance(first, date) or loan.monthly_payment.value == 0:
        return []
    if loan.payment_day is None:
        return [first] if first < until else []
    return monthly_dates(first, until, loan.payment_day, last=max(first, loan.end_date or first))


def card_debt_minor(accounts: Sequence[AccountInput]) -> int:
    """Used credit-card limits: the negative balance of card / credit-card accounts."""
    return sum(
        -acc.booked_minor
        for acc in accounts
        if account_class(acc) == LIABILITY and not is_loan_account(acc) and acc.booked_minor < 0
    )


@dataclass(frozen=True)
class DebtSummary:
    currency: str
    loans: tuple[LoanView, ...]
    total_debt: Figure
    monthly_payments: Figure
    next_payment: Figure
    dsti: Figure
    dsti_band: str


def summarise_debt(
    loans: Sequence[LoanInput],
    accounts: Sequence[AccountInput],
    regular_income_minor: int,
    today: date,
    settings: AnalyticsSettings,
    currency: str,
) -> DebtSummary:
    """Debt figures for one currency: `loans` and `accounts` are that currency's only."""
    views = tuple(analyse_loan(loan, today, settings) for loan in loans)
    loan_total = sum(loan.outstanding_minor for loan in loans if loan.outstanding_minor > 0)
    card_used = card_debt_minor(accounts)
    card_payment = percent_of(card_used, settings.card_min_payment_pct)
    loan_payments = sum(_as_int(v.monthly_payment.value) for v in views)
    payments = loan_payments + card_payment
    band = dsti_band(payments, regular_income_minor)
    return DebtSummary(
        currency=currency,
        loans=views,
        total_debt=money(
            loan_total + card_used,
            currency,
            "Outstanding loans plus used credit-card limits.",
            {"loans_minor": loan_total, "credit_cards_minor": card_used},
        ),
        monthly_payments=money(
            payments,
            currency,
            "Loan annuity payments plus an estimated minimum payment on card debt.",
            {
                "loans_minor": loan_payments,
                "credit_cards_minor": card_payment,
                "card_min_payment_pct": settings.card_min_payment_pct,
            },
            "month",
        ),
        next_payment=_earliest_payment(views),
        dsti=dsti_figure(payments, regular_income_minor, band),
        dsti_band=band,
    )


def _as_int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _earliest_payment(views: Sequence[LoanView]) -> Figure:
    dated = [
        v for v in views if isinstance(v.next_due.value, date) and _as_int(v.monthly_payment.value)
    ]
    if not dated:
        return Figure(None, "date", {}, None, "No loan payments are due.", SOURCE_COMPUTED)
    # ISO dates sort as strings; the agreement id makes ties deterministic.
    first = min(dated, key=lambda v: (str(v.next_due.value), v.agreement_id))
    return Figure(
        first.next_due.value,
        "date",
        {
            "amount_minor": first.monthly_payment.value,
            "agreement_id": first.agreement_id,
            "product_name": first.product_name,
        },
        None,
        "Earliest predicted due date across loans, with its payment.",
        first.next_due.source,
    )
