"""Traders (liquidity providers), their requisites, and the reference data they point at."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import StrictBool, StringConstraints, model_validator
from sqlalchemy import BigInteger, CheckConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field, enum_type, new_id
from models.inputs import JsonInt


def normalize_number(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def number_fingerprint(key: str, number: str) -> str:
    """Keyed hash of a requisite number: uniqueness without storing or leaking the number."""
    message = normalize_number(number).encode()
    return hmac.new(f"requisite-number:{key}".encode(), message, hashlib.sha256).hexdigest()


class Bank(SQLModel, table=True):
    __tablename__ = "banks"

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    is_active: bool = True


class PaymentMethod(SQLModel, table=True):
    __tablename__ = "payment_methods"

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    is_active: bool = True


class Currency(SQLModel, table=True):
    __tablename__ = "currencies"

    code: str = Field(primary_key=True, max_length=8)
    name: str = Field(max_length=100)
    minor_units: int = Field(default=2, ge=0, le=8)
    is_active: bool = True


class Trader(SQLModel, table=True):
    __tablename__ = "traders"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", unique=True, index=True)
    is_online: bool = False
    is_active: bool = True
    payin_enabled: bool = True
    payout_enabled: bool = False
    priority: int = 100
    payin_reward_bps: int = Field(default=150, ge=0, le=10_000)
    payout_reward_bps: int = Field(default=150, ge=0, le=10_000)
    # Pay-outs a trader may have taken and not yet paid, at once.
    max_open_payouts: int = Field(default=3, ge=1, le=100)
    # A credit on a linked account matching an open pay-in: confirm it at once ("auto"), or
    # show the trader "money arrived: confirm?" ("suggest").
    statement_policy: str = Field(default="auto", max_length=8)
    # The statement watch's last word on the trader's linked bank: ok, rate_limited,
    # bank_unavailable or consent_required (orders stay confirmable by hand meanwhile).
    statement_status: str | None = Field(default=None, max_length=24)
    statement_error: str | None = Field(default=None, max_length=300)
    statement_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the trader's balance is kept in; NULL: the order's own currency.
    settlement_currency: str | None = Field(
        default=None, foreign_key="currencies.code", max_length=8
    )
    # Why the platform set the trader offline (`below_min_working_balance`), and since when;
    # NULL reason: the trader went offline themselves (or never went online).
    offline_reason: str | None = Field(default=None, max_length=32)
    offline_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The trader's team (at most one; an administrator assigns it), and its lead's switch:
    # false, matching gives the trader no new pay-ins until the lead turns it on again.
    team_id: uuid.UUID | None = Field(default=None, foreign_key="teams.id", index=True)
    traffic_enabled: bool = True
    traffic_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class RequisiteStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    blocked = "blocked"


MAX_MINOR = 10**15  # far beyond any amount, far inside a BIGINT
MAX_COUNT = 1_000_000
MAX_PRIORITY = 1_000_000


class RequisiteLimits(SQLModel):
    """Static and dynamic limits; None means unlimited. Dynamic ones are computed from orders."""

    min_amount_minor: int = Field(default=10_000, ge=1, sa_type=BigInteger)
    max_amount_minor: int = Field(default=50_000_000, ge=1, sa_type=BigInteger)
    window_turnover_limit_minor: int | None = Field(default=None, ge=0, sa_type=BigInteger)
    daily_turnover_limit_minor: int | None = Field(default=None, ge=0, sa_type=BigInteger)
    monthly_turnover_limit_minor: int | None = Field(default=None, ge=0, sa_type=BigInteger)
    daily_count_limit: int | None = Field(default=None, ge=0)
    monthly_count_limit: int | None = Field(default=None, ge=0)
    max_open_orders: int | None = Field(default=3, ge=0)
    cooldown_seconds: int = Field(default=0, ge=0, le=86_400)


class Requisite(RequisiteLimits, table=True):
    __tablename__ = "requisites"
    __table_args__ = (
        CheckConstraint("min_amount_minor <= max_amount_minor", name="amount_bounds"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    trader_id: uuid.UUID = Field(foreign_key="traders.id", index=True)
    # The trader's synced bank account (Connect) this requisite receives into, once linked.
    linked_account_id: uuid.UUID | None = Field(
        default=None, foreign_key="bank_accounts.id", unique=True
    )
    # Credits booked before the link are never matched (the account's past is not scanned).
    linked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Fernet ciphertext; the keyed hash makes "one number, one requisite" enforceable.
    number_encrypted: str = Field(max_length=500)
    number_last4: str = Field(max_length=4)
    number_hash: str = Field(max_length=64, unique=True)
    holder_name: str = Field(max_length=200)
    bank_code: str = Field(foreign_key="banks.code", max_length=32)
    payment_method: str = Field(foreign_key="payment_methods.code", max_length=32)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    payin_enabled: bool = True
    payout_enabled: bool = False
    status: RequisiteStatus = Field(
        default=RequisiteStatus.pending, sa_type=enum_type(RequisiteStatus), index=True
    )
    priority: int = 100
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class RequisiteCreate(RequisiteLimits):
    # The limits as the API takes them: whole numbers, bounded (a BIGINT holds each).
    min_amount_minor: JsonInt = Field(default=10_000, ge=1, le=MAX_MINOR)
    max_amount_minor: JsonInt = Field(default=50_000_000, ge=1, le=MAX_MINOR)
    window_turnover_limit_minor: JsonInt | None = Field(default=None, ge=0, le=MAX_MINOR)
    daily_turnover_limit_minor: JsonInt | None = Field(default=None, ge=0, le=MAX_MINOR)
    monthly_turnover_limit_minor: JsonInt | None = Field(default=None, ge=0, le=MAX_MINOR)
    daily_count_limit: JsonInt | None = Field(default=None, ge=0, le=MAX_COUNT)
    monthly_count_limit: JsonInt | None = Field(default=None, ge=0, le=MAX_COUNT)
    max_open_orders: JsonInt | None = Field(default=3, ge=0, le=MAX_COUNT)
    cooldown_seconds: JsonInt = Field(default=0, ge=0, le=86_400)
    number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ]{4,34}$")]
    holder_name: str = Field(min_length=1, max_length=200)
    bank_code: str = Field(max_length=32)
    payment_method: str = Field(max_length=32)
    currency: str = Field(min_length=3, max_length=8)
    payin_enabled: StrictBool = True
    payout_enabled: StrictBool = False

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Self:
        if self.min_amount_minor > self.max_amount_minor:
            raise ValueError("min_amount_minor must not exceed max_amount_minor")
        return self


class RequisitePublic(RequisiteLimits):
    """Every output outside the customer's payment instructions shows the number masked."""

    id: uuid.UUID
    trader_id: uuid.UUID
    number_masked: str
    holder_name: str
    bank_code: str
    payment_method: str
    currency: str
    payin_enabled: bool
    payout_enabled: bool
    status: RequisiteStatus
    priority: int
    last_used_at: datetime | None
    linked_account_id: uuid.UUID | None = None
    linked_at: datetime | None = None
    created_at: datetime


class RequisiteLimitsUpdate(SQLModel):
    """Sent fields change, others stay. null means "no limit" where a limit may be absent;
    for the amount bounds, cooldown and priority null is refused (422)."""

    min_amount_minor: JsonInt | None = Field(default=None, ge=1, le=MAX_MINOR)
    max_amount_minor: JsonInt | None = Field(default=None, ge=1, le=MAX_MINOR)
    window_turnover_limit_minor: JsonInt | None = Field(default=None, ge=0, le=MAX_MINOR)
    daily_turnover_limit_minor: JsonInt | None = Field(default=None, ge=0, le=MAX_MINOR)
    monthly_turnover_limit_minor: JsonInt | None = Field(default=None, ge=0, le=MAX_MINOR)
    daily_count_limit: JsonInt | None = Field(default=None, ge=0, le=MAX_COUNT)
    monthly_count_limit: JsonInt | None = Field(default=None, ge=0, le=MAX_COUNT)
    max_open_orders: JsonInt | None = Field(default=None, ge=0, le=MAX_COUNT)
    cooldown_seconds: JsonInt | None = Field(default=None, ge=0, le=86_400)
    priority: JsonInt | None = Field(default=None, ge=-MAX_PRIORITY, le=MAX_PRIORITY)


class TraderPublic(SQLModel):
    id: uuid.UUID
    user_id: uuid.UUID
    is_online: bool
    is_active: bool
    payin_enabled: bool
    payout_enabled: bool
    priority: int
    payin_reward_bps: int
    payout_reward_bps: int
    max_open_payouts: int
    settlement_currency: str | None = None
    offline_reason: str | None = None
    offline_since: datetime | None = None
    team_id: uuid.UUID | None = None
    # False: the trader's team lead turned their traffic off (no new pay-ins are matched).
    traffic_enabled: bool = True
    traffic_changed_at: datetime | None = None


class CollateralPublic(SQLModel):
    """A trader's collateral in one currency: the security deposit frozen from the balance,
    and the working balance (balance − deposit − holds) orders are matched against."""

    currency: str
    balance: str
    security_deposit: str
    # "trader": set for this trader by an administrator; "platform": the platform's default.
    security_deposit_source: Literal["trader", "platform"]
    held: str
    working_balance: str
    min_working_balance: str


class TraderMe(TraderPublic):
    collateral: list[CollateralPublic]


# Zero or more, at most six decimals (the currency's own digits are checked: invalid_amount).
DepositAmount = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{1,15}(?:\.[0-9]{1,6})?$", max_length=22)
]


class SecurityDepositUpdate(SQLModel):
    """The trader's security deposit in one currency; null: the platform default again."""

    currency: str = Field(min_length=3, max_length=8)
    amount: DepositAmount | None


class TraderUpdate(SQLModel):
    """Sent fields change, others stay; null is refused (422): none of these can be absent."""

    is_active: StrictBool | None = None
    payin_enabled: StrictBool | None = None
    payout_enabled: StrictBool | None = None
    priority: JsonInt | None = Field(default=None, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    payin_reward_bps: JsonInt | None = Field(default=None, ge=0, le=10_000)
    payout_reward_bps: JsonInt | None = Field(default=None, ge=0, le=10_000)
    max_open_payouts: JsonInt | None = Field(default=None, ge=1, le=100)
