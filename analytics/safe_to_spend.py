"""Safe-to-Spend, the headline number.

    safe_to_spend = spendable available balance (checking and card accounts; savings
                      accounts only when the person says so, deposits never)
                    − recurring bills and loan payments due before the next income date
                    − savings goal contribution (0 when none set)
                    − safety buffer (settings; default 10% of average monthly spending)
    per_day       = safe_to_spend / days until the next income date (at least 1)

Both are rounded ROUND_HALF_UP to minor units. A negative result is "overspent" and the
message says so rather than showing a cheerful zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from analytics.debt import LoanView, loan_due_dates
from analytics.figures import SOURCE_SETTINGS, Figure, money
from analytics.inputs import AnalyticsSettings
from analytics.money import divide_minor, format_minor, percent_of
from analytics.recurring import RecurringBill, bill_due_dates

KIND_BILL = "bill"
KIND_LOAN = "loan"


@dataclass(frozen=True)
class ScheduledPayment:
    due: date
    amount_minor: int
    kind: str  # "bill" | "loan"
    name: str


def scheduled_payments(
    bills: Sequence[RecurringBill], loans: Sequence[LoanView], until: date
) -> list[ScheduledPayment]:
    """Every predicted bill and loan payment from now until `until` (exclusive), by date."""
    payments = [
        ScheduledPayment(due, bill.typical_minor, KIND_BILL, bill.payee)
        for bill in bills
        for due in bill_due_dates(bill, until)
    ]
    for loan in loans:
        amount = loan.monthly_payment.value
        if isinstance(amount, int) and amount > 0:
            payments.extend(
                ScheduledPayment(due, amount, KIND_LOAN, loan.product_name)
                for due in loan_due_dates(loan, until)
            )
    return sorted(payments, key=lambda p: (p.due, p.kind, p.name))


def safety_buffer(
    monthly_spending_minor: int, settings: AnalyticsSettings, currency: str
) -> Figure:
    """The fixed buffer (primary currency only), else a share of average monthly spending."""
    if settings.safety_buffer_minor is not None and currency == settings.primary_currency:
        return money(
            settings.safety_buffer_minor, currency, "Fixed safety buffer.", source=SOURCE_SETTINGS
        )
    inputs = {"monthly_spending_minor": monthly_spending_minor, "pct": settings.safety_buffer_pct}
    amount = percent_of(monthly_spending_minor, settings.safety_buffer_pct)
    return money(amount, currency, "Share of average monthly spending.", inputs, "month")


@dataclass(frozen=True)
class SafeToSpend:
    currency: str
    safe_to_spend: Figure
    per_day: Figure
    days_until_income: int
    overspent: bool
    message: str
    payments_due: tuple[ScheduledPayment, ...]


def compute_safe_to_spend(
    spendable_minor: int,
    payments: Sequence[ScheduledPayment],
    next_income: date,
    savings_goal_minor: int,
    buffer_minor: int,
    today: date,
    currency: str,
    counted: Mapping[str, int] | None = None,
) -> SafeToSpend:
    """Safe-to-Spend until `next_income` (see the module docstring for the definition);
    `counted` names the accounts whose balances make up `spendable_minor`."""
    due = tuple(p for p in payments if today <= p.due < next_income)
    due_total = sum(p.amount_minor for p in due)
    value = spendable_minor - due_total - savings_goal_minor - buffer_minor
    days = max((next_income - today).days, 1)
    per_day = divide_minor(value, days)
    inputs = {
        "spendable_available_minor": spendable_minor,
        "bills_and_loans_due_minor": due_total,
        "savings_goal_minor": savings_goal_minor,
        "safety_buffer_minor": buffer_minor,
        "next_income_date": next_income,
        "spendable_accounts": dict(counted or {}),
    }
    period = f"{today.isoformat()}/{next_income.isoformat()}"
    return SafeToSpend(
        currency=currency,
        safe_to_spend=money(
            value,
            currency,
            "Spendable balance minus payments due before the next income, "
            "the savings goal and the safety buffer.",
            inputs,
            period,
        ),
        per_day=money(
            per_day,
            currency,
            f"Safe-to-Spend spread over {days} day(s).",
            {"safe_to_spend_minor": value, "days": days},
            period,
        ),
        days_until_income=days,
        overspent=value < 0,
        message=_message(value, per_day, next_income, currency),
        payments_due=due,
    )


def _message(value: int, per_day: int, next_income: date, currency: str) -> str:
    if value < 0:
        return (
            f"Overspent: payments due before {next_income.isoformat()}, savings and buffer "
            f"exceed your available money by {format_minor(-value, currency)}."
        )
    return (
        f"You can spend {format_minor(value, currency)} until {next_income.isoformat()} "
        f"({format_minor(per_day, currency)} a day)."
    )
