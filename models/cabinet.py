"""The merchant cabinet's answers: pages of orders, balances, statement lines, deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field
from sqlmodel import SQLModel

from models.base import UtcDatetime
from models.payins import BalancePublic, PayinPublic
from models.payouts import PayoutPublic

# A keyset position: the last row's time (microseconds since 1970, UTC) and id. Any value of
# this shape is a position (rows after it, or none), so the pattern is the whole rule.
CURSOR_PATTERN = r"^[0-9]{1,16}-[0-9a-f]{32}$"


class CabinetPayin(PayinPublic):
    """A pay-in in the merchant's own lists: also its store and the merchant's fee."""

    store_id: uuid.UUID
    # Fixed when it was matched; on the actual amount when a dispute settled with one.
    fee: str | None


class CabinetPayout(PayoutPublic):
    """A pay-out in the merchant's own lists: also its store."""

    store_id: uuid.UUID


class OrdersPage(SQLModel):
    # Pay-ins by default, pay-outs with `kind=payout` (each item names its kind).
    items: list[Annotated[CabinetPayin | CabinetPayout, Field(discriminator="kind")]]
    # Pass as `cursor` for the next page; null on the last one.
    next_cursor: str | None


class StoreBalance(BalancePublic):
    store_id: uuid.UUID


class StatementLine(SQLModel):
    at: UtcDatetime
    posting_kind: str
    order_id: uuid.UUID | None
    amount: str
    balance_after: str
    # The order's fixed rate (its currency per unit of this one) when the line was converted.
    rate: str | None = None


class StatementPage(SQLModel):
    store_id: uuid.UUID
    currency: str
    opening_balance: str
    lines: list[StatementLine]
    next_cursor: str | None


class DeliveryRow(SQLModel):
    order_id: uuid.UUID
    store_id: uuid.UUID
    event_id: str
    event_type: str
    status: str
    attempts: int
    delivered_at: UtcDatetime | None
    created_at: UtcDatetime
