"""The Connect app's main screen in a person's words: category and account names instead of
ids, sentences instead of abbreviations, and how Safe-to-Spend was reached.

Pure transforms of `DashboardPublic` (what `/api/dashboard` serves); no I/O here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from analytics.money import format_minor
from connect.connections import BANK_NAMES
from models.banking import AccountPublic, TransactionPublic
from models.dashboard import DashboardPublic, HeadlinePublic

CATEGORY_NAMES = {
    "salary": "Salary",
    "other_income": "Other income",
    "groceries": "Groceries",
    "rent_utilities": "Rent and utilities",
    "transport": "Transport",
    "restaurants": "Cafés and restaurants",
    "health": "Health",
    "entertainment": "Entertainment",
    "transfers": "Transfers to others",
    "loan_payment": "Loan payments",
    "cash": "Cash withdrawals",
    "other": "Other",
    "own_transfer": "Between your accounts",
}
HEALTH_PARTS = {
    "spend_vs_income": "Spending less than you earn",
    "bills_on_time": "Bills paid on time",
    "liquid_savings": "Money set aside",
    "savings_trend": "Savings growing",
    "manageable_debt": "Manageable debt",
}
# The Bank of Russia's debt-service-to-income bands, in words.
DEBT_SHARE_BANDS = {
    "fine": "that is fine (under 30 %)",
    "caution": "worth watching (30–50 %)",
    "high": "high: above 50 % lenders must warn you",
    "critical": "critical: above 80 %",
}
# The analytics' short notes on the health parts, as sentences (the others read as they are).
HEALTH_NOTES = {
    "Income ÷ spending.": "Your income compared with your spending over the last months.",
    "Overdue or overdrawn.": "A loan payment is late or an account is overdrawn.",
    "Months of essentials covered.": "How many months of rent, food and bills your money covers.",
    "Monthly savings growth ÷ income.": "How much your savings grow each month, against income.",
    "Direction of savings only.": "Whether your savings grow or shrink.",
}
ACCOUNT_KINDS = {
    "checking": "Current account",
    "current": "Current account",
    "savings": "Savings account",
    "deposit": "Deposit",
    "termdeposit": "Deposit",
    "loan": "Loan",
    "mortgage": "Mortgage",
    "creditcard": "Credit card",
    "card": "Card",
}


def category_name(category: str | None) -> str:
    if not category:
        return CATEGORY_NAMES["other"]
    return CATEGORY_NAMES.get(category, category.replace("_", " ").capitalize())


def bank_name(bank_code: str) -> str:
    return BANK_NAMES.get(bank_code, bank_code)


def account_name(account: AccountPublic) -> str:
    """ "VBank · Salary card ****1234": the bank, the account's own name, its masked number."""
    kind = ACCOUNT_KINDS.get(account.sub_type.replace(" ", "").lower(), account.sub_type)
    parts = [bank_name(account.bank_code), "·", account.nickname or kind]
    if account.number_masked:
        parts.append(account.number_masked)
    return " ".join(parts)


def money_text(amount_minor: int | None, currency: str) -> str:
    """12345678 → "123 456.78 RUB": thousands grouped, the currency named."""
    return "—" if amount_minor is None else format_minor(int(amount_minor), currency)


def day_text(value: object) -> str:
    """ "2026-04-05" → "5 April 2026" (what is not a date is shown as it is)."""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {day:%B %Y}"


def health_note(name: str, explanation: str, debt_share: str) -> str:
    if name == "manageable_debt":
        return debt_share
    return HEALTH_NOTES.get(explanation, explanation)


def minor_of(amount: str | None) -> int | None:
    """The API's decimal string ("1234.50") in minor units (123450)."""
    return None if amount is None else int(Decimal(amount) * 100)


@dataclass(frozen=True)
class Step:
    """One line of "how we got this": a label and a signed amount in minor units."""

    label: str
    amount_minor: int


def safe_to_spend_steps(
    headline: HeadlinePublic, accounts: list[AccountPublic]
) -> tuple[list[Step], list[str]]:
    """What Safe-to-Spend counts and subtracts, and the accounts it leaves out."""
    inputs = headline.safe_to_spend.inputs
    names = {f"{a.bank_code}/{a.external_id}": account_name(a) for a in accounts}
    counted: dict[str, int] = inputs.get("spendable_accounts") or {}
    steps = [Step(names.get(key, key), int(value)) for key, value in counted.items()]
    if not steps:  # a snapshot from before accounts were listed: the total alone
        total = inputs.get("spendable_available_minor", inputs.get("liquid_available_minor", 0))
        steps.append(Step("Money in your current and card accounts", int(total)))
    until = day_text(headline.next_income_date.value)
    steps.append(
        Step(
            f"Bills and loan payments due before {until}", -int(inputs["bills_and_loans_due_minor"])
        )
    )
    if inputs.get("savings_goal_minor"):
        steps.append(Step("Your savings goal", -int(inputs["savings_goal_minor"])))
    steps.append(
        Step(
            "Safety buffer (a tenth of a usual month's spending)",
            -int(inputs["safety_buffer_minor"]),
        )
    )
    left_out = [
        account_name(a)
        for a in accounts
        if f"{a.bank_code}/{a.external_id}" not in counted
        and a.kind.value != "liability"
        and a.currency == headline.currency
    ]
    return steps, left_out if counted else []


def debt_share_sentence(headline: HeadlinePublic) -> str:
    """ "Debt payments take 37 % of your income: worth watching (30–50 %)." """
    share = headline.dsti.value
    if share is None:
        return (
            "We could not compare your debt payments with your income yet (no regular income seen)."
        )
    band = DEBT_SHARE_BANDS.get(headline.dsti_band, headline.dsti_band)
    return f"Debt payments take {Decimal(str(share)).normalize():f} % of your income: {band}."


@dataclass(frozen=True)
class RecentLine:
    booked_at: Any
    text: str
    category: str
    account: str
    amount_minor: int
    currency: str


def recent_lines(
    transactions: list[TransactionPublic], accounts: list[AccountPublic]
) -> list[RecentLine]:
    names: dict[uuid.UUID, str] = {a.id: account_name(a) for a in accounts}
    return [
        RecentLine(
            tx.booked_at,
            tx.description or tx.merchant_name or "",
            category_name("own_transfer" if tx.is_own_transfer else tx.category),
            names.get(tx.account_id, bank_name(tx.bank_code)),
            minor_of(tx.amount) or 0,
            tx.currency,
        )
        for tx in transactions
    ]


def shows_progress(board: DashboardPublic) -> str | None:
    """What the progress card says while there is no analysis yet (None: nothing to say)."""
    if board.metrics is not None:
        return None
    ready = [b.name for b in board.banks if b.status.value == "ready"]
    if ready:
        return f"Analysing your data from {', '.join(ready)}: it shows here in a moment."
    if board.status == "syncing":
        return "Your data is on its way: the analysis shows here as soon as one bank is synced."
    return None
