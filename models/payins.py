"""Pay-in API schemas: what merchants, traders and admins send and see (never table rows)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, StrictInt, StringConstraints
from sqlmodel import Field, SQLModel

from contracts.processing import ActorType, OrderKind, OrderStatus, PayinStatus
from models.amounts import AmountStr
from models.base import UtcDatetime
from models.inputs import IpAddress


def callback_url_syntax(value: str) -> str:
    """http(s), a host, no credentials; where it resolves to is checked when it is set and
    again at each delivery (`processing.webhooks`)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("callback_url must be an http or https URL")
    if not parts.hostname:
        raise ValueError("callback_url must name a host")
    if parts.username or parts.password:
        raise ValueError("callback_url must not carry credentials")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as exc:
        raise ValueError("callback_url has an invalid port") from exc
    return value


CallbackUrl = Annotated[
    str, StringConstraints(max_length=2000), AfterValidator(callback_url_syntax)
]


class PayinCreate(SQLModel):
    # Decimal strings only: a JSON number would invite float rounding.
    amount: AmountStr
    currency: str = Field(min_length=3, max_length=3)
    merchant_order_id: str = Field(min_length=1, max_length=128)
    payment_method: str | None = Field(default=None, max_length=32)
    bank_code: str | None = Field(default=None, max_length=32)
    customer_id: str | None = Field(default=None, max_length=128)
    # The customer's address as the merchant saw it (fraud rules: velocity, block list).
    customer_ip: IpAddress | None = None
    callback_url: CallbackUrl | None = None


class DisputePublic(SQLModel):
    opened_by: ActorType
    reason: str | None
    opened_at: UtcDatetime
    # Set when the dispute outlived its SLA and went to the top of the admin queue.
    escalated_at: UtcDatetime | None
    has_evidence: bool


class PaymentRequisite(SQLModel):
    """Where the customer sends the money. The full number appears only in the create reply."""

    number: str
    holder_name: str
    bank_code: str
    payment_method: str


class PayinPublic(SQLModel):
    kind: Literal["payin"] = "payin"
    id: uuid.UUID
    merchant_order_id: str
    status: PayinStatus
    failure_reason: str | None
    requested_amount: str
    amount: str
    currency: str
    payment_method: str | None
    bank_code: str | None
    requisite: PaymentRequisite | None
    expires_at: UtcDatetime | None
    trader_deadline_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    finished_at: UtcDatetime | None
    dispute: DisputePublic | None = None
    # The amount an admin completed a disputed order with, when it differs from `amount`.
    actual_amount: str | None = None


class CancelRequest(SQLModel):
    reason: str | None = Field(default=None, max_length=500)


class TraderCancelRequest(SQLModel):
    reason: str = Field(min_length=3, max_length=500)


class OrderEventPublic(SQLModel):
    seq: int
    actor_type: ActorType
    actor_id: str | None
    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str | None
    at: UtcDatetime


class CallbackAttemptPublic(SQLModel):
    attempt_no: int
    status_code: int | None
    latency_ms: int
    error: str | None
    at: UtcDatetime


class CallbackDeliveryPublic(SQLModel):
    event_id: str
    event_type: str
    url: str | None
    status: str
    attempts: list[CallbackAttemptPublic]
    delivered_at: UtcDatetime | None
    created_at: UtcDatetime


class CallbackResent(SQLModel):
    event_id: str
    workflow_id: str


class MatchReport(SQLModel):
    order_id: uuid.UUID
    kind: OrderKind
    status: OrderStatus
    failure_reason: str | None
    rejections: list[dict[str, Any]]
    # Fraud screening: allow / deny / review (None before screening) and what fired.
    fraud_decision: str | None = None
    fraud_hits: list[dict[str, Any]] = Field(default_factory=list)
    # What an admin should look at, e.g. `near_amount_credit` from the trader's statement.
    flags: list[str] = Field(default_factory=list)


class DepositRequest(SQLModel):
    amount: AmountStr
    currency: str = Field(min_length=3, max_length=3)
    # The admin's own reference makes a retried deposit a no-op.
    reference: str = Field(min_length=1, max_length=64)


class BalancePublic(SQLModel):
    currency: str
    balance: str
    held: str
    available: str


class StoreFeesUpdate(SQLModel):
    """Sent fields change, others stay; null is refused (422): none of these can be absent."""

    payin_fee_bps: StrictInt | None = Field(default=None, ge=0, le=10_000)
    payout_fee_bps: StrictInt | None = Field(default=None, ge=0, le=10_000)
    amount_shift_step_minor: StrictInt | None = Field(default=None, ge=1, le=100_000)
    amount_shift_max_minor: StrictInt | None = Field(default=None, ge=0, le=1_000_000)
    payment_deadline_seconds: StrictInt | None = Field(default=None, ge=60, le=86_400)
    trader_deadline_seconds: StrictInt | None = Field(default=None, ge=60, le=86_400)
    payout_take_seconds: StrictInt | None = Field(default=None, ge=60, le=86_400)
    payout_pay_seconds: StrictInt | None = Field(default=None, ge=60, le=86_400)
    payout_review_seconds: StrictInt | None = Field(default=None, ge=0, le=7 * 86_400)
