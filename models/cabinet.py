"""The merchant cabinet's answers: pages of orders, balances, statement lines, deliveries."""

from __future__ import annotations

import uuid

from sqlmodel import SQLModel

from models.base import UtcDatetime
from models.payins import BalancePublic, PayinPublic


class OrdersPage(SQLModel):
    items: list[PayinPublic]
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
