"""Platform settings an administrator changes at run time: deadlines and fees for new stores,
the callback retry ladder, rate limits. A row overrides the environment's default."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from limits import parse
from pydantic import AfterValidator, StringConstraints, WithJsonSchema, create_model
from pydantic import Field as PydanticField
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from models.base import UtcDatetime, created_at_field
from models.inputs import JsonInt

ONE_WEEK_S = 7 * 86_400


def _rate(value: str) -> str:
    """ "N/second|minute|hour|day" (or "N per minute"), N ≥ 1, as the `limits` package reads it."""
    try:
        item = parse(value)
    except ValueError as exc:
        raise ValueError(f"not a rate limit such as '600/minute': {value!r}") from exc
    if item.amount < 1:
        raise ValueError("a rate limit allows at least one request")
    return value


# pydantic's Field inside Annotated: sqlmodel's would leave the bounds out of the schema.
RateLimit = Annotated[str, PydanticField(min_length=3, max_length=40), AfterValidator(_rate)]
Delay = Annotated[JsonInt, PydanticField(ge=1, le=ONE_WEEK_S)]
# An amount per currency, in that currency's minor units ({"RUB": 500000} is 5000.00 RUB): a
# single number would mean something else in every currency. A currency left out is 0.
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3,8}$")]  # USDT too
MinorAmount = Annotated[JsonInt, PydanticField(ge=0, le=10**15)]
# Stated in the document as JSON Schema says it (pydantic's own form lets other keys pass).
MinorByCurrency = Annotated[
    dict[CurrencyCode, MinorAmount],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": r"^[A-Z]{3,8}$"},
            "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 10**15},
            "maxProperties": 100,
        }
    ),
]
# Set only here (no environment variable): the ledger reads them from the database.
DATABASE_ONLY = frozenset({"security_deposit_default", "min_working_balance"})


class PlatformValues(SQLModel):
    """Every editable setting with its bounds; what the platform runs with right now."""

    payment_deadline_seconds: JsonInt = Field(
        ge=60, le=86_400, description="Seconds a customer has to pay (default for new stores)"
    )
    trader_deadline_seconds: JsonInt = Field(
        ge=60,
        le=86_400,
        description="Seconds a trader has to confirm a claimed payment (new stores)",
    )
    payin_fee_bps: JsonInt = Field(
        ge=0, le=10_000, description="Merchant pay-in fee in basis points (default for new stores)"
    )
    payout_fee_bps: JsonInt = Field(
        ge=0, le=10_000, description="Merchant pay-out fee in basis points (default for new stores)"
    )
    callback_retry_delays_s: list[Delay] = Field(
        min_length=1, max_length=20, description="Seconds between callback attempts (new orders)"
    )
    dispute_sla_seconds: JsonInt = Field(
        ge=1,
        le=30 * 86_400,
        description="Seconds a dispute may wait before it is escalated (new orders)",
    )
    payout_unpaid_action: Literal["dispute", "pool"] = Field(
        description="A taken pay-out not marked paid in time: dispute it, or back to the pool"
    )
    funds_second_approval_above: JsonInt = Field(
        ge=0,
        le=10**12,
        description="Deposits and withdrawals above this many whole currency units need a"
        " second, different staff member's approval",
    )
    withdrawal_fee_bps: JsonInt = Field(
        ge=0, le=10_000, description="Withdrawal fee in basis points of the amount"
    )
    withdrawal_fee_fixed_minor: JsonInt = Field(
        ge=0, le=10**12, description="Fixed part of the withdrawal fee, in minor units"
    )
    withdrawal_sla_seconds: JsonInt = Field(
        ge=1,
        le=30 * 86_400,
        description="Seconds a withdrawal may wait to be paid before it is escalated",
    )
    statement_watch_interval_seconds: JsonInt = Field(
        ge=1,
        le=3600,
        description="Seconds between scans of a trader's linked bank accounts (statement bridge)",
    )
    unverified_confirmation_seconds: JsonInt = Field(
        ge=1,
        le=ONE_WEEK_S,
        description="A pay-in confirmed by hand with no matching credit after this long is"
        " flagged unverified_confirmation",
    )
    fx_spread_bps: JsonInt = Field(
        ge=0,
        le=1_000,
        description="The platform's margin in basis points on the rate an order fixes when a"
        " party settles in another currency (new orders)",
    )
    ip_rate_limit: RateLimit = Field(
        description="Requests to /api per client address, before authentication"
    )
    api_rate_limit: RateLimit = Field(description="Gateway requests per store (validated API key)")
    user_rate_limit: RateLimit = Field(description="Cabinet requests per signed-in user")
    security_deposit_default: MinorByCurrency = Field(
        default_factory=dict,
        max_length=100,
        description="A trader's security deposit per currency, in minor units, where the"
        " administrator set none for the trader (frozen: no order may use it)",
    )
    min_working_balance: MinorByCurrency = Field(
        default_factory=dict,
        max_length=100,
        description="Per currency, in minor units: a trader whose working balance (balance −"
        " security deposit − holds) falls below it is set offline",
    )


class SettingKey(StrEnum):
    """The settings' names (the API's path parameter, so the OpenAPI lists them)."""

    payment_deadline_seconds = "payment_deadline_seconds"
    trader_deadline_seconds = "trader_deadline_seconds"
    payin_fee_bps = "payin_fee_bps"
    payout_fee_bps = "payout_fee_bps"
    callback_retry_delays_s = "callback_retry_delays_s"
    dispute_sla_seconds = "dispute_sla_seconds"
    payout_unpaid_action = "payout_unpaid_action"
    funds_second_approval_above = "funds_second_approval_above"
    withdrawal_fee_bps = "withdrawal_fee_bps"
    withdrawal_fee_fixed_minor = "withdrawal_fee_fixed_minor"
    withdrawal_sla_seconds = "withdrawal_sla_seconds"
    statement_watch_interval_seconds = "statement_watch_interval_seconds"
    unverified_confirmation_seconds = "unverified_confirmation_seconds"
    fx_spread_bps = "fx_spread_bps"
    ip_rate_limit = "ip_rate_limit"
    api_rate_limit = "api_rate_limit"
    user_rate_limit = "user_rate_limit"
    security_deposit_default = "security_deposit_default"
    min_working_balance = "min_working_balance"


assert [key.value for key in SettingKey] == list(PlatformValues.model_fields)


class PlatformSetting(SQLModel, table=True):
    __tablename__ = "platform_settings"

    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_type=JSON)
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = created_at_field()


class SettingPublic(SQLModel):
    key: str
    value: Any
    default: Any
    source: Literal["database", "environment"]
    description: str
    updated_by: uuid.UUID | None = None
    updated_at: UtcDatetime | None = None


class SettingUpdate(SQLModel):
    """The new value, of the setting's type (a number, a list of numbers, a rate string)."""

    value: Any


# What the API takes for a rate: the documented form only (the environment's may be any the
# `limits` package reads).
RateLimitInput = Annotated[
    str, StringConstraints(pattern=r"^[1-9][0-9]{0,8}/(?:second|minute|hour|day)$")
]


def _update_body(key: SettingKey) -> type[SettingUpdate]:
    """`{"value": …}` of exactly this setting's type and bounds, so the document says it."""
    field = PlatformValues.model_fields[key.value]
    value: Any = (field.annotation, field)
    if field.annotation is str:  # a rate
        value = (RateLimitInput, Field(description=field.description))
    elif key.value in DATABASE_ONLY:  # the table's default is {}, the body must say
        value = (MinorByCurrency, PydanticField(description=field.description, max_length=100))
    name = "".join(part.title() for part in key.value.split("_")) + "Update"
    return create_model(name, __base__=SettingUpdate, value=value)


SETTING_BODIES = {key: _update_body(key) for key in SettingKey}
