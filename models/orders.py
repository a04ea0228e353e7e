"""Pay-in orders, their audit trail, receipts and merchant callback deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from contracts.processing import RETRYABLE_FAILURES, ActorType, OrderKind, OrderStatus
from models.base import UTCDateTime, created_at_field, enum_type, new_id

_OPEN = "status IN ('awaiting_payment', 'payment_claimed', 'disputed')"
_RETRYABLE = "failure_reason IS NULL OR failure_reason NOT IN ({})".format(
    ", ".join(f"'{reason}'" for reason in RETRYABLE_FAILURES)
)
# Orders carrying any flag (a few): the JSON `null` an unflagged order stores is the rest.
FLAGGED = "CAST(flags AS VARCHAR) <> 'null'"


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # An order that never held money (no requisite, a pay-out the balance could not
        # cover) frees its merchant_order_id for a new attempt.
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
        # Lookups by the merchant's id (the create's duplicate check, by-merchant-order),
        # which the partial unique index above cannot serve: they read every attempt.
        Index("ix_orders_store_merchant_order_id", "store_id", "merchant_order_id"),
        # The merchant's order pages (keyset on created_at, id): all stores, or one.
        Index("ix_orders_merchant_kind_created", "merchant_id", "kind", "created_at", "id"),
        Index("ix_orders_store_kind_created", "store_id", "kind", "created_at", "id"),
        # The trader desk: one trader's open orders, oldest first (a few of thousands).
        Index(
            "ix_orders_trader_open",
            "trader_id",
            "created_at",
            postgresql_where=text(_OPEN),
            sqlite_where=text(_OPEN),
        ),
        Index(
            "ix_orders_flagged",
            "updated_at",
            postgresql_where=text(FLAGGED),
            sqlite_where=text(FLAGGED),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: OrderKind = Field(default=OrderKind.payin, sa_type=enum_type(OrderKind), index=True)
    store_id: uuid.UUID = Field(foreign_key="stores.id", index=True)
    merchant_id: uuid.UUID = Field(foreign_key="merchants.id", index=True)
    merchant_order_id: str = Field(max_length=128)
    idempotency_key: str = Field(max_length=128)
    request_hash: str = Field(max_length=64)
    requested_amount_minor: int = Field(sa_type=BigInteger)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    payment_method: str | None = Field(default=None, max_length=32)
    bank_code: str | None = Field(default=None, max_length=32)
    customer_id: str | None = Field(default=None, max_length=128)
    customer_ip: str | None = Field(default=None, max_length=45)
    callback_url: str | None = Field(default=None, max_length=2000)
    status: OrderStatus = Field(
        default=OrderStatus.created, sa_type=enum_type(OrderStatus), index=True
    )
    failure_reason: str | None = Field(default=None, max_length=64)
    match_rejections: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    # Fraud screening: allow / deny / review, and each rule or list that fired.
    fraud_decision: str | None = Field(default=None, max_length=16)
    fraud_hits: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    # Pay-outs: the recipient (Fernet ciphertext, last four, keyed fingerprint, never plain).
    recipient_kind: str | None = Field(default=None, max_length=8)
    recipient_encrypted: str | None = Field(default=None, max_length=500)
    recipient_last4: str | None = Field(default=None, max_length=4)
    recipient_fingerprint: str | None = Field(default=None, max_length=64, index=True)
    recipient_bank_code: str | None = Field(default=None, max_length=32)
    review_seconds: int = 0
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Disputes (at most one per order): who opened it, why, the evidence, the SLA escalation,
    # and the amount an admin resolved it with when that differs from the order's.
    disputed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    dispute_opened_by: str | None = Field(default=None, max_length=16)
    dispute_reason: str | None = Field(default=None, max_length=500)
    dispute_evidence_id: uuid.UUID | None = None
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    actual_amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    # Transitions recorded so far: the next event's sequence number.
    events: int = 0
    # What an admin should look at (e.g. "near_amount_credit", "unverified_confirmation").
    flags: list[str] | None = Field(default=None, sa_type=JSON)
    merchant_fee_bps: int | None = None
    trader_reward_bps: int | None = None
    fee_minor: int | None = Field(default=None, sa_type=BigInteger)
    reward_minor: int | None = Field(default=None, sa_type=BigInteger)
    # The trader's team lead and their share of the reward (basis points of it, and the
    # amount in the order's currency), fixed when the trader got the order: later changes
    # to the team do not touch it. Settlement posts the share to the lead out of the reward.
    teamlead_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    teamlead_share_bps: int | None = None
    teamlead_share_minor: int | None = Field(default=None, sa_type=BigInteger)
    # A party settling in another currency: its currency, the rate fixed at creation (order
    # currency per unit, spread included, a decimal string) and the order amount converted.
    store_currency: str | None = Field(default=None, max_length=8)
    store_rate: str | None = Field(default=None, max_length=40)
    store_amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    trader_currency: str | None = Field(default=None, max_length=8)
    trader_rate: str | None = Field(default=None, max_length=40)
    trader_amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    # Rates fixed at creation for the settlement currencies of the traders who may take it.
    trader_rates: dict[str, str] | None = Field(default=None, sa_type=JSON)
    requisite_id: uuid.UUID | None = Field(default=None, foreign_key="requisites.id", index=True)
    trader_id: uuid.UUID | None = Field(default=None, foreign_key="traders.id", index=True)
    # Pay-ins: the customer's and the trader's deadlines. Pay-outs: the time to be taken
    # (`expires_at`) and the trader's time to pay (`trader_deadline_at`).
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
    """The audit trail: every transition once, numbered per order (a pay-out back in the pool
    enters `created` again; an escalation is an event that keeps the status)."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("order_id", "seq", name="uq_order_events_order_seq"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True)
    seq: int
    actor_type: ActorType = Field(sa_type=enum_type(ActorType))
    actor_id: str | None = Field(default=None, max_length=64)
    from_status: OrderStatus | None = Field(default=None, sa_type=enum_type(OrderStatus))
    to_status: OrderStatus = Field(sa_type=enum_type(OrderStatus))
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


# Deliveries still waiting for their first attempt (a few, briefly): the partial index's
# predicate, and the same condition as a query on a join writes it.
WAITING = "status = 'pending' AND attempts = 0"
WAITING_DELIVERY = text(
    "callback_deliveries.status = 'pending' AND callback_deliveries.attempts = 0"
)


class CallbackDelivery(SQLModel, table=True):
    """One event to one merchant URL; the body is frozen so every attempt sends the same bytes."""

    __tablename__ = "callback_deliveries"
    # What the reconciler's sweep of owed callbacks reads.
    __table_args__ = (
        # The merchant's deliveries page: a store's newest first.
        Index("ix_callback_deliveries_store_created", "store_id", "created_at"),
        Index(
            "ix_callback_deliveries_waiting",
            "created_at",
            postgresql_where=text(WAITING),
            sqlite_where=text(WAITING),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    event_id: str = Field(max_length=64, unique=True)
    # An order's event, or (order_id NULL) a store withdrawal's.
    order_id: uuid.UUID | None = Field(default=None, foreign_key="orders.id", index=True)
    withdrawal_id: uuid.UUID | None = Field(default=None, foreign_key="withdrawals.id", index=True)
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


UNRESOLVED = "resolved_at IS NULL"


class PendingAction(SQLModel, table=True):
    """An action answered 202: its update waits in Temporal for a worker. Temporal keeps an
    update it has admitted but no worker has accepted only in memory, so a restart in that
    window loses it; this row is what the reconciler sends again (same update id, so an
    update Temporal still has or has applied is never applied twice) until it is applied."""

    __tablename__ = "pending_actions"
    __table_args__ = (
        # Update ids are the workflow's own (an action, its actor and the order's event count).
        UniqueConstraint("workflow_id", "update_id", name="uq_pending_actions_update"),
        Index(
            "ix_pending_actions_unresolved",
            "created_at",
            postgresql_where=text(UNRESOLVED),
            sqlite_where=text(UNRESOLVED),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workflow_id: str = Field(max_length=100)
    update_name: str = Field(max_length=64)
    update_id: str = Field(max_length=200)
    # The update's argument as Temporal encoded it (a serialized Payload: ids and references,
    # like the workflow history, never secrets).
    payload: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = created_at_field()
    resends: int = Field(default=0)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
