"""Pay-out API schemas, and the dispute / review requests both kinds of order share."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, StringConstraints, field_validator, model_validator
from sqlmodel import Field, SQLModel

from contracts.processing import PayoutStatus
from models.amounts import AmountStr
from models.base import UtcDatetime
from models.inputs import IpAddress
from models.payins import CallbackUrl, DisputePublic, SettlementPublic
from models.traders import normalize_number


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class RecipientKind(StrEnum):
    card = "card"
    phone = "phone"


# 13–19 digits, spaces and dashes between; 10–15 digits after "+", the first not 0.
CARD_PATTERN = r"^[ -]*(?:[0-9][ -]*){13,19}$"
PHONE_PATTERN = r"^[ -]*\+[ -]*[1-9][ -]*(?:[0-9][ -]*){9,14}$"


class PayoutRecipient(SQLModel):
    """Exactly one of a card number (13–19 digits, Luhn-valid; spaces and dashes allowed) or
    a phone in international format (`+` and 10–15 digits) with the recipient's bank."""

    # The one-of rule in the document too (the Luhn check alone it cannot state).
    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["card_number"],
                    "properties": {"card_number": {"type": "string"}, "phone": {"type": "null"}},
                },
                {
                    "required": ["phone", "bank_code"],
                    "properties": {
                        "phone": {"type": "string"},
                        "bank_code": {"type": "string", "minLength": 1},
                        "card_number": {"type": "null"},
                    },
                },
            ]
        },
    )

    card_number: Annotated[str, StringConstraints(max_length=40, pattern=CARD_PATTERN)] | None = (
        None
    )
    phone: Annotated[str, StringConstraints(max_length=20, pattern=PHONE_PATTERN)] | None = None
    bank_code: str | None = Field(default=None, max_length=32)

    @field_validator("card_number")
    @classmethod
    def _card(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = normalize_number(value)
        if not luhn_ok(digits):
            raise ValueError("card_number is not a valid card number")
        return digits

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else value.replace(" ", "").replace("-", "")

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.card_number is None) == (self.phone is None):
            raise ValueError("give exactly one of card_number or phone")
        if self.phone is not None and not self.bank_code:
            raise ValueError("a phone pay-out needs the recipient's bank_code")
        return self

    @property
    def kind(self) -> RecipientKind:
        return RecipientKind.card if self.card_number else RecipientKind.phone

    @property
    def number(self) -> str:
        return self.card_number or self.phone or ""


class PayoutCreate(SQLModel):
    amount: AmountStr
    currency: str = Field(min_length=3, max_length=8)
    merchant_order_id: str = Field(min_length=1, max_length=128)
    recipient: PayoutRecipient
    customer_id: str | None = Field(default=None, max_length=128)
    customer_ip: IpAddress | None = None
    callback_url: CallbackUrl | None = None


class RecipientPublic(SQLModel):
    """The number is masked except for the trader who took the pay-out (they must pay it)."""

    kind: RecipientKind
    number: str
    bank_code: str | None


class PayoutPublic(SQLModel):
    kind: Literal["payout"] = "payout"
    id: uuid.UUID
    merchant_order_id: str
    status: PayoutStatus
    failure_reason: str | None
    amount: str
    fee: str
    currency: str
    recipient: RecipientPublic
    # In the pool until `expires_at`; once taken, to be paid by `pay_by`.
    expires_at: UtcDatetime | None
    pay_by: UtcDatetime | None
    paid_at: UtcDatetime | None
    # Completes at `review_until` unless the merchant disputes before.
    review_until: UtcDatetime | None
    dispute: DisputePublic | None
    actual_amount: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    finished_at: UtcDatetime | None
    # Set when the store settles in another currency than the order's.
    settlement: SettlementPublic | None = None


class PayoutOffer(SQLModel):
    """A pay-out waiting for a trader (recipient masked until taken)."""

    id: uuid.UUID
    amount: str
    currency: str
    recipient: RecipientPublic
    reward: str
    expires_at: UtcDatetime | None


class DisputeOpen(SQLModel):
    """Support opens a dispute (evidence, if any, goes through the merchant's or trader's
    upload routes)."""

    reason: str = Field(min_length=3, max_length=500)


class DisputeResolve(SQLModel):
    """`completed` (optionally with the amount that actually moved, at most the order's) or
    `cancelled` (the hold is released)."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"properties": {"outcome": {"const": "completed"}}},
                {
                    "properties": {
                        "outcome": {"const": "cancelled"},
                        "actual_amount": {"type": "null"},
                    }
                },
            ]
        },
    )

    outcome: Literal["completed", "cancelled"]
    actual_amount: AmountStr | None = None
    reason: str = Field(min_length=3, max_length=500)

    @model_validator(mode="after")
    def _amount_for_completion(self) -> Self:
        if self.outcome == "cancelled" and self.actual_amount is not None:
            raise ValueError("actual_amount applies to a completed resolution only")
        return self


class DisputeListItem(SQLModel):
    order_id: uuid.UUID
    kind: str
    store_id: uuid.UUID
    trader_id: uuid.UUID | None
    amount: str
    currency: str
    opened_by: str | None
    reason: str | None
    disputed_at: UtcDatetime
    escalated_at: UtcDatetime | None
    age_seconds: int


class ReviewDecision(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=500)
