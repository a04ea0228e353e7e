"""Our own typed view of the sandbox banks' wire data: frozen dataclasses and small enums.

The banks mix key styles (camelCase accounts data, snake_case consents and agreements),
wrap some responses in `data`, send amounts as strings or floats and timestamps with or
without a zone; `banks.parsing` converts all of that, once, into these types: amounts are
signed `Decimal`s, timestamps tz-aware UTC, statuses small enums. Standard library only, so
workflow code and Temporal payload modules may import these types safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class ConsentStatus(StrEnum):
    authorized = "authorized"
    awaiting_authorization = "awaiting_authorization"
    rejected = "rejected"
    revoked = "revoked"
    expired = "expired"
    unknown = "unknown"


class TransactionStatus(StrEnum):
    booked = "booked"
    pending = "pending"
    declined = "declined"
    refunded = "refunded"


class AccountCategory(StrEnum):
    checking = "checking"
    savings = "savings"
    deposit = "deposit"
    loan = "loan"
    credit_card = "credit_card"
    card = "card"
    other = "other"

    @property
    def is_liability(self) -> bool:
        return self in (AccountCategory.loan, AccountCategory.credit_card)


@dataclass(frozen=True)
class BankToken:
    access_token: str
    expires_at: datetime

    def __repr__(self) -> str:
        # Never let a token reach logs through a repr.
        return f"BankToken(expires_at={self.expires_at.isoformat()})"


@dataclass(frozen=True)
class ConsentRequestResult:
    """Answer to a consent request; `consent_id` is None while the client has not approved."""

    request_id: str
    consent_id: str | None
    status: ConsentStatus
    auto_approved: bool
    message: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class AccountConsent:
    consent_id: str
    status: ConsentStatus
    permissions: tuple[str, ...]
    created_at: datetime | None
    status_updated_at: datetime | None
    expires_at: datetime | None

    @property
    def is_request_echo(self) -> bool:
        """Polling by a request id echoes it back; only `consent-…` ids are real consents."""
        return not self.consent_id.startswith("consent-")


@dataclass(frozen=True)
class UserConsent:
    """One consent as the user's own list at the bank shows it (`consent-…` id, the team
    it was granted to): the one place a consent approved in the bank's UI has its id."""

    consent_id: str
    granted_to: str | None
    status: ConsentStatus
    signed_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class ConsentSignResult:
    consent_id: str | None
    status: ConsentStatus
    permissions: tuple[str, ...]
    expires_at: datetime | None
    signed_at: datetime | None


@dataclass(frozen=True)
class ProductConsentRequestResult:
    request_id: str
    consent_id: str | None
    status: ConsentStatus
    auto_approved: bool
    message: str | None
    valid_until: datetime | None


@dataclass(frozen=True)
class ProductAgreementConsent:
    consent_id: str | None
    request_id: str | None
    client_id: str | None
    status: ConsentStatus
    allowed_product_types: tuple[str, ...]
    read_product_agreements: bool
    valid_until: datetime | None


@dataclass(frozen=True)
class BankAccount:
    account_id: str
    category: AccountCategory
    sub_type: str
    currency: str
    nickname: str | None
    status: str
    opening_date: date | None
    identification: str | None
    holder_name: str | None

    @property
    def masked_number(self) -> str | None:
        return f"****{self.identification[-4:]}" if self.identification else None


@dataclass(frozen=True)
class BankBalance:
    """A signed balance. For a Loan account a positive amount is the outstanding debt."""

    account_id: str
    balance_type: str
    amount: Decimal
    currency: str
    as_of: datetime | None


@dataclass(frozen=True)
class BankTransaction:
    """One transaction; `amount` is signed (credit +, debit −)."""

    account_id: str
    transaction_id: str
    amount: Decimal
    currency: str
    status: TransactionStatus
    raw_status: str
    booked_at: datetime
    value_at: datetime | None
    description: str | None
    bank_tx_code: str | None
    merchant_name: str | None
    mcc: str | None
    merchant_category: str | None
    card_masked: str | None
    counterparty: str | None


@dataclass(frozen=True)
class BankCard:
    card_id: str
    masked_number: str | None
    card_type: str | None
    name: str | None
    status: str | None
    account_id: str | None


@dataclass(frozen=True)
class BankProduct:
    product_id: str
    product_type: str
    name: str | None
    description: str | None
    interest_rate: Decimal | None
    min_amount: Decimal | None
    max_amount: Decimal | None
    term_months: int | None


@dataclass(frozen=True)
class ProductAgreement:
    """An agreement; `interest_rate` / `account_balance` only come from the detail call."""

    agreement_id: str
    product_id: str | None
    product_name: str | None
    product_type: str
    amount: Decimal | None
    status: str | None
    start_date: datetime | None
    end_date: datetime | None
    account_number: str | None
    interest_rate: Decimal | None = None
    account_balance: Decimal | None = None


@dataclass(frozen=True)
class RawApiLogEntry:
    """One request/response exchange with a bank, already redacted and truncated."""

    bank_code: str
    method: str
    endpoint: str
    status_code: int | None
    request_body: str | None
    response_body: str | None
    correlation_id: str
    duration_ms: int
    external_client_id: str | None
    attempt: int
    error: str | None
    occurred_at: datetime
    direction: str = "outbound"
