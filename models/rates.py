"""Exchange rates: a price of one `base` unit in `quote` units, as decimal strings (never
floats), from an administrator (`manual`) or the configured provider (`provider`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Self

from pydantic import AfterValidator, StringConstraints, model_validator
from sqlmodel import Field, SQLModel

from models.amounts import CURRENCY_PATTERN
from models.base import UTCDateTime, UtcDatetime
from models.inputs import JsonInt

MANUAL = "manual"
PROVIDER = "provider"
# Digits a rate may carry: enough for any fiat against any crypto, bounded for storage.
RATE_PATTERN = r"^(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,12})?$"


def _positive(value: str) -> str:
    try:
        number = Decimal(value)
    except InvalidOperation as exc:  # the pattern makes this unreachable; kept as a guard
        raise ValueError("not a decimal number") from exc
    if number <= 0:
        raise ValueError("a rate must be above zero")
    return value


RateStr = Annotated[
    str, StringConstraints(pattern=RATE_PATTERN, max_length=40), AfterValidator(_positive)
]


class ExchangeRate(SQLModel, table=True):
    """The latest rate of one pair: the platform buys `base` at `buy` and sells it at `sell`."""

    __tablename__ = "exchange_rates"

    base: str = Field(primary_key=True, foreign_key="currencies.code", max_length=8)
    quote: str = Field(primary_key=True, foreign_key="currencies.code", max_length=8)
    buy: str = Field(max_length=40)
    sell: str = Field(max_length=40)
    source: str = Field(max_length=16)
    fetched_at: datetime = Field(sa_type=UTCDateTime)
    # Older than this, the rate is stale: no order is priced with it.
    max_age_s: int
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")


class RateUpdate(SQLModel):
    """A manual rate: one `base` costs `buy` (the platform buys) or `sell` `quote` units."""

    buy: RateStr
    sell: RateStr
    max_age_s: JsonInt = Field(default=3600, ge=1, le=30 * 86_400)

    @model_validator(mode="after")
    def _sell_not_below_buy(self) -> Self:
        if Decimal(self.sell) < Decimal(self.buy):
            raise ValueError("sell must not be below buy")
        return self


class ExchangeRatePublic(SQLModel):
    base: str
    quote: str
    buy: str
    sell: str
    source: str
    fetched_at: UtcDatetime
    max_age_s: int
    stale: bool


class SettlementCurrencyUpdate(SQLModel):
    """The currency a store's or trader's balance is kept in; null: each order's own."""

    currency: Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)] | None
