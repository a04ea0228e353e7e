"""Pay-in orders, their audit trail, receipts and merchant callback deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from contracts.processing import NO_REQUISITE, ActorType, PayinStatus
from models.base import UTCDateTime, created_at_field, enum_type, new_id

_OPEN = "status IN ('awaiting_payment', 'payment_claimed', 'disputed')"
_RETRYABLE = f"failure_reason IS NULL OR failure_reason <> '{NO_REQUISITE}'"


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # A pay-in that found no requisite frees its merchant_order_id for a new attempt.
        Index(
            "ux_orders_store_merchant_order",
            "store_id",
            "merchant_order_id",
            unique=True,
            postgresql_where=text(_RETRYABLE),
            sqlite_where=text(_RETRYABLE),
        ),
        UniqueConstraint("store_id", "idempotency_key", name="uq_orders_store_idempotency_key"),
        # Unique amount: one open order per requisite per exact payable amount.
        Index(
            "ux_orders_open_requisite_amount",
            "requisite_id",
            "amount_minor",
            unique=True,
            postgresql_where=text(_OPEN),
            sqlite_where=text(_OPEN),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    store_id: uuid.UUID = Field(foreign_key="stores.id", index=True)
    merchant_id: uuid.UUID = Field(foreign_key="merchants.id", index=True)
    merchant_order_id: str = Field(max_length=128)
    idempotency_key: str = Field(max_length=128)
    request_hash: str = Field(max_length=64)
    requested_amount_minor: int = Field(sa_type=BigInteger)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(foreign_key="currencies.code", max_length=3)
    payment_method: str | None = Field(default=None, max_length=32)
    bank_code: str | None = Field(default=None, max_length=32)
    customer_id: str | None = Field(default=None, max_length=128)
    callback_url: str | None = Field(default=None, max_length=2000)
    status: PayinStatus = Field(
        default=PayinStatus.created, sa_type=enum_type(PayinStatus), index=True
    )
    failure_reason: str | None = Field(default=None, max_length=64)
    match_rejections: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    merchant_fee_bps: int | None = None
    trader_reward_bps: int | None = None
    fee_minor: int | None = Field(default=None, sa_type=BigInteger)
    reward_minor: int | None = Field(default=None, sa_type=BigInteger)
    requisite_id: uuid.UUID | None = Field(default=None, foreign_key="requisites.id", index=True)
    trader_id: uuid.UUID | None = Field(default=None, foreign_key="traders.id", index=True)
    payment_deadline_seconds: int = 900
    trader_deadline_seconds: int = 1800
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    trader_deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    matched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class OrderEvent(SQLModel, table=True):
    """The audit trail: every transition once (a status is entered at most once per order)."""

    __tablename__ = "order_events"
    __table_args__ = (
        UniqueConstraint("order_id", "to_status", name="uq_order_events_order_to_status"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True)
    actor_type: ActorType = Field(sa_type=enum_type(ActorType))
    actor_id: str | None = Field(default=None, max_length=64)
    from_status: PayinStatus | None = Field(default=None, sa_type=enum_type(PayinStatus))
    to_status: PayinStatus = Field(sa_type=enum_type(PayinStatus))
    reason: str | None = Field(default=None, max_length=500)
    at: datetime = created_at_field()


class Receipt(SQLModel, table=True):
    __tablename__ = "receipts"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True)
    s3_key: str = Field(max_length=300, unique=True)
    content_type: str = Field(max_length=64)
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_by_type: ActorType = Field(sa_type=enum_type(ActorType))
    uploaded_by_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = created_at_field()


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"
    skipped = "skipped"


class CallbackDelivery(SQLModel, table=True):
    """One event to one merchant URL; the body is frozen so every attempt sends the same bytes."""

    __tablename__ = "callback_deliveries"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    event_id: str = Field(max_length=64, unique=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True)
    store_id: uuid.UUID = Field(foreign_key="stores.id", index=True)
    event_type: str = Field(max_length=64)
    url: str | None = Field(default=None, max_length=2000)
    body: str = Field(sa_type=Text)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.pending, sa_type=enum_type(DeliveryStatus)
    )
    attempts: int = 0
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class CallbackAttempt(SQLModel, table=True):
    __tablename__ = "callback_attempts"
    __table_args__ = (
        UniqueConstraint("delivery_id", "attempt_no", name="uq_callback_attempts_delivery_no"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    delivery_id: uuid.UUID = Field(foreign_key="callback_deliveries.id", index=True)
    attempt_no: int
    status_code: int | None = None
    latency_ms: int
    error: str | None = Field(default=None, max_length=500)
    at: datetime = created_at_field()
