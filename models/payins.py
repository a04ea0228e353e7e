"""Pay-in API schemas: what merchants, traders and admins send and see (never table rows)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import StringConstraints
from sqlmodel import Field, SQLModel

from contracts.processing import ActorType, OrderKind, OrderStatus, PayinStatus
from models.amounts import AmountStr
from models.base import UtcDatetime
from models.inputs import IpAddress, JsonInt

# RFC 3986's IPv6address, for a bracketed host (`http://[2001:db8::1]/`).
H16 = "[0-9A-Fa-f]{1,4}"
OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
LS32 = rf"(?:{H16}:{H16}|{OCTET}(?:\.{OCTET}){{3}})"
IPV6 = "(?:{})".format(
    "|".join(
        [f"(?:{H16}:){{6}}{LS32}", f"::(?:{H16}:){{5}}{LS32}"]
        + [
            f"(?:(?:{H16}:){{0,{before}}}{H16})?::(?:{H16}:){{{after}}}{tail}"
            for before, after, tail in [
                (0, 4, LS32),
                (1, 3, LS32),
                (2, 2, LS32),
                (3, 1, LS32),
                (4, 0, LS32),
                (5, 0, H16),
                (6, 0, ""),
            ]
        ]
    )
)
PORT = "(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# http(s), a host (a DNS name or IPv4 address in ASCII, punycode for others, or a bracketed
# IPv6 address), an optional port, then printable ASCII; no credentials. This pattern is the
# whole syntax rule, in the document and on the server; where the host resolves is checked
# when the URL is set and again at each delivery (`processing.callbacks.signing`).
CALLBACK_URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9._-]+|\[{IPV6}\])(?::{PORT})?(?:[/?#][!-~]*)?$"
)
CallbackUrl = Annotated[str, StringConstraints(max_length=2000, pattern=CALLBACK_URL_PATTERN)]


class PayinCreate(SQLModel):
    # Decimal strings only: a JSON number would invite float rounding.
    amount: AmountStr
    currency: str = Field(min_length=3, max_length=8)
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


class SettlementPublic(SQLModel):
    """The store's side of an order settled in another currency: the rate fixed at creation
    (order currency per unit, spread included) and the order's amount converted."""

    currency: str
    rate: str
    amount: str | None


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
    # Who completed it: `trader`, `admin`, or `bank_statement` (the trader's own bank
    # statement showed the credit); null until completed.
    confirmed_by: ActorType | None = None
    # Set when the store settles in another currency than the order's.
    settlement: SettlementPublic | None = None


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
    currency: str = Field(min_length=3, max_length=8)
    # The admin's own reference makes a retried deposit a no-op.
    reference: str = Field(min_length=1, max_length=64)


class BalancePublic(SQLModel):
    currency: str
    balance: str
    held: str
    available: str


class StoreFeesUpdate(SQLModel):
    """Sent fields change, others stay; null is refused (422): none of these can be absent."""

    payin_fee_bps: JsonInt | None = Field(default=None, ge=0, le=10_000)
    payout_fee_bps: JsonInt | None = Field(default=None, ge=0, le=10_000)
    amount_shift_step_minor: JsonInt | None = Field(default=None, ge=1, le=100_000)
    amount_shift_max_minor: JsonInt | None = Field(default=None, ge=0, le=1_000_000)
    payment_deadline_seconds: JsonInt | None = Field(default=None, ge=60, le=86_400)
    trader_deadline_seconds: JsonInt | None = Field(default=None, ge=60, le=86_400)
    payout_take_seconds: JsonInt | None = Field(default=None, ge=60, le=86_400)
    payout_pay_seconds: JsonInt | None = Field(default=None, ge=60, le=86_400)
    payout_review_seconds: JsonInt | None = Field(default=None, ge=0, le=7 * 86_400)
