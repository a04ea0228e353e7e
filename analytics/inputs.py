"""Inputs to the analytics package: plain frozen dataclasses the activities build from rows.

Only the standard library is imported so Temporal workflow code can use these types.
Money is integer minor units (kopecks); amounts on transactions are signed (credit +).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

STATUS_BOOKED = "booked"
STATUS_PENDING = "pending"

# Account classes from the bank's accountSubType (case-insensitive).
LIQUID = "liquid"
DEPOSIT = "deposit"
LIABILITY = "liability"
_LIQUID_SUB_TYPES = {"checking", "current", "savings", "card", "debitcard", "ewallet"}
_DEPOSIT_SUB_TYPES = {"deposit", "termdeposit"}
_LIABILITY_SUB_TYPES = {"loan", "mortgage", "creditcard"}

TxKey = tuple[str, str, str]


@dataclass(frozen=True)
class AccountInput:
    account_id: str
    bank_code: str
    sub_type: str
    currency: str
    available_minor: int
    booked_minor: int


@dataclass(frozen=True)
class TransactionInput:
    bank_code: str
    account_id: str
    transaction_id: str
    booked_at: datetime
    amount_minor: int
    currency: str
    status: str = STATUS_BOOKED
    description: str = ""
    bank_tx_code: str | None = None
    mcc: str | None = None
    merchant_name: str | None = None
    merchant_category: str | None = None
    counterparty: str | None = None
    category: str | None = None

    @property
    def key(self) -> TxKey:
        """Identity used for deduplication and own-transfer flags: (bank, account, id)."""
        return (self.bank_code, self.account_id, self.transaction_id)

    @property
    def account_key(self) -> tuple[str, str]:
        return (self.bank_code, self.account_id)


@dataclass(frozen=True)
class LoanInput:
    agreement_id: str
    bank_code: str
    product_name: str
    outstanding_minor: int
    annual_rate: Decimal | None
    end_date: date | None
    rate_source: str
    outstanding_source: str
    currency: str = "RUB"
    # The loan account this agreement is serviced through, so its balance is not counted twice.
    account_id: str | None = None
    # Days past due when the bank reports it; 0 when unknown or on time.
    days_overdue: int = 0


@dataclass(frozen=True)
class DepositInput:
    agreement_id: str
    bank_code: str
    product_name: str
    balance_minor: int
    annual_rate: Decimal | None
    end_date: date | None
    source: str
    currency: str = "RUB"
    account_id: str | None = None


@dataclass(frozen=True)
class AnalyticsSettings:
    safety_buffer_pct: Decimal = Decimal(10)
    # A fixed buffer in primary-currency minor units replaces the percentage when set.
    safety_buffer_minor: int | None = None
    savings_goal_minor: int = 0
    primary_currency: str = "RUB"
    own_transfer_window: timedelta = timedelta(days=2)
    # Similar amount for recurring bills: the largest payment of a series is at most 15%
    # above the smallest.
    recurring_tolerance: Decimal = Decimal("0.15")
    # Days a recurring payment may be late before it counts as overdue.
    grace_days: int = 5
    # Used when neither the agreement nor the product list gives a rate or an end date.
    fallback_loan_rate_pct: Decimal = Decimal(20)
    fallback_loan_term_months: int = 12
    # Monthly payment assumed for used credit-card limits (a typical minimum payment).
    card_min_payment_pct: Decimal = Decimal(5)
    # Without a salary rhythm the next income is assumed this many days ahead.
    default_income_interval_days: int = 30
    # Months of history for regular income and the health score (3–6 per the spec).
    history_months: int = 6
    # Savings accounts count as money to spend (Safe-to-Spend, the forecast) only when the
    # person says so; deposits never do.
    spend_savings: bool = False


def account_class(account: AccountInput) -> str:
    """liquid | deposit | liability, by sub-type (the bank's accountType is unreliable).

    A "Card" account with a negative booked balance is a credit card in use: a liability.
    """
    sub_type = account.sub_type.replace("_", "").replace(" ", "").lower()
    if sub_type in _LIABILITY_SUB_TYPES:
        return LIABILITY
    if sub_type in _DEPOSIT_SUB_TYPES:
        return DEPOSIT
    if sub_type == "card" and account.booked_minor < 0:
        return LIABILITY
    if sub_type in _LIQUID_SUB_TYPES:
        return LIQUID
    return LIQUID if account.booked_minor >= 0 else LIABILITY


def is_spendable(account: AccountInput, spend_savings: bool = False) -> bool:
    """Money the person can spend today: liquid, and not a savings account unless they
    said savings count."""
    if account_class(account) != LIQUID:
        return False
    return spend_savings or account.sub_type.replace(" ", "").lower() != "savings"


def is_loan_account(account: AccountInput) -> bool:
    return account.sub_type.replace(" ", "").lower() in {"loan", "mortgage"}


def deduplicate(transactions: Iterable[TransactionInput]) -> list[TransactionInput]:
    """One row per (bank, account, transaction id); a booked row replaces its pending one."""
    by_key: dict[TxKey, TransactionInput] = {}
    for tx in transactions:
        seen = by_key.get(tx.key)
        if seen is None or (seen.status != STATUS_BOOKED and tx.status == STATUS_BOOKED):
            by_key[tx.key] = tx
    return sorted(by_key.values(), key=lambda t: (t.booked_at, t.key))
