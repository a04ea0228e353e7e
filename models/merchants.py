"""Merchants and their stores (the gateway's API-key holders)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import ConfigDict, StrictBool, StringConstraints, model_validator
from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from models.amounts import CURRENCY_PATTERN
from models.base import UTCDateTime, UtcDatetime, created_at_field, new_id
from models.inputs import JsonInt
from models.payins import CallbackUrl


class Merchant(SQLModel, table=True):
    __tablename__ = "merchants"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    owner_user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=200)
    created_at: datetime = created_at_field()


class StoreBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    callback_url: str | None = Field(default=None, max_length=2000)
    currency: str = Field(default="RUB", min_length=3, max_length=8)
    payin_enabled: bool = True
    payout_enabled: bool = False
    min_amount_minor: int = Field(default=10_000, ge=1)
    max_amount_minor: int = Field(default=50_000_000, ge=1)
    payin_fee_bps: int = Field(default=300, ge=0, le=10_000)
    payout_fee_bps: int = Field(default=300, ge=0, le=10_000)
    payment_deadline_seconds: int = Field(default=900, ge=60, le=86_400)
    trader_deadline_seconds: int = Field(default=1800, ge=60, le=86_400)
    # Unique amount: a taken amount is shifted by this step, at most this far either way.
    amount_shift_step_minor: int = Field(default=100, ge=1, le=100_000)
    amount_shift_max_minor: int = Field(default=1_000, ge=0, le=1_000_000)
    # Pay-outs: time for a trader to take one, time for that trader to pay it, and the review
    # window after "paid" during which the merchant may dispute (0 = completes at once).
    payout_take_seconds: int = Field(default=900, ge=60, le=86_400)
    payout_pay_seconds: int = Field(default=1800, ge=60, le=86_400)
    payout_review_seconds: int = Field(default=300, ge=0, le=7 * 86_400)


class Store(StoreBase, table=True):
    __tablename__ = "stores"
    __table_args__ = (
        CheckConstraint("min_amount_minor <= max_amount_minor", name="amount_bounds"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    merchant_id: uuid.UUID = Field(foreign_key="merchants.id", index=True)
    # Only a hash of the API key is kept; the prefix lets support recognise a key.
    api_key_prefix: str = Field(max_length=16)
    api_key_hash: str = Field(max_length=64, unique=True, index=True)
    # Fernet ciphertext of the callback signing secret.
    signing_secret_encrypted: str = Field(max_length=500)
    # After a rotation the old secret also signs callbacks until it expires (overlap), so
    # receivers can switch without dropping events.
    previous_signing_secret_encrypted: str | None = Field(default=None, max_length=500)
    previous_signing_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_active: bool = True
    # What the store's balance is kept in; NULL: the order's own currency.
    settlement_currency: str | None = Field(
        default=None, foreign_key="currencies.code", max_length=8
    )
    created_at: datetime = created_at_field()


MAX_AMOUNT_MINOR = 10**15  # far beyond any order, far inside a BIGINT


class StoreSettingsChecks(SQLModel):
    @model_validator(mode="after")
    def _bounds_in_order(self) -> Self:
        low, high = getattr(self, "min_amount_minor", None), getattr(self, "max_amount_minor", None)
        if low is not None and high is not None and low > high:
            raise ValueError("min_amount_minor must not exceed max_amount_minor")
        return self


class StoreCreate(StoreSettingsChecks):
    """A new store; the callback URL is checked (scheme, host, where it resolves) here.
    Unknown fields (a fee, say) are refused rather than ignored."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str = Field(min_length=1, max_length=200)
    callback_url: CallbackUrl | None = None
    currency: Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)] = "RUB"
    payin_enabled: StrictBool = True
    payout_enabled: StrictBool = False
    min_amount_minor: JsonInt = Field(default=10_000, ge=1, le=MAX_AMOUNT_MINOR)
    max_amount_minor: JsonInt = Field(default=50_000_000, ge=1, le=MAX_AMOUNT_MINOR)
    # Fees are the platform's to set (its default now, an administrator's change later);
    # unset deadlines take the platform's defaults.
    payment_deadline_seconds: JsonInt | None = Field(default=None, ge=60, le=86_400)
    trader_deadline_seconds: JsonInt | None = Field(default=None, ge=60, le=86_400)
    amount_shift_step_minor: JsonInt = Field(default=100, ge=1, le=100_000)
    amount_shift_max_minor: JsonInt = Field(default=1_000, ge=0, le=1_000_000)
    payout_take_seconds: JsonInt = Field(default=900, ge=60, le=86_400)
    payout_pay_seconds: JsonInt = Field(default=1800, ge=60, le=86_400)
    payout_review_seconds: JsonInt = Field(default=300, ge=0, le=7 * 86_400)


class StoreUpdate(SQLModel):
    """What a merchant may change later; null leaves a field as it is (the URL: removes it)."""

    callback_url: CallbackUrl | None = None


class StorePublic(StoreBase):
    id: uuid.UUID
    merchant_id: uuid.UUID
    api_key_prefix: str
    is_active: bool
    previous_signing_secret_expires_at: UtcDatetime | None = None
    settlement_currency: str | None = None
    created_at: UtcDatetime


class SigningSecretRotation(SQLModel):
    # How long callbacks carry both signatures; 0 drops the old secret at once.
    overlap_hours: JsonInt = Field(default=24, ge=0, le=168)


class SigningSecretRotated(SQLModel):
    """The new signing secret, shown only in this response."""

    signing_secret: str
    previous_signing_secret_expires_at: UtcDatetime | None


class ApiKeyRotated(StorePublic):
    """The new API key, shown only in this response (the signing secret is not shown again)."""

    api_key: str


class StoreCreated(ApiKeyRotated):
    """Returned once, at creation: the only time the signing secret is shown."""

    signing_secret: str
