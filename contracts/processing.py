"""Pay-in payloads, statuses and error type names shared by the API, workflows and activities.

Standard library only: workflow files import this module. Payloads carry ids and amounts,
never requisite numbers or signing secrets (histories are stored in clear).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# The failure reason of a pay-in no requisite could take: it never held money, so its
# merchant_order_id may be used again.
NO_REQUISITE = "no_requisite"


class PayinStatus(StrEnum):
    created = "created"
    awaiting_payment = "awaiting_payment"
    payment_claimed = "payment_claimed"
    completed = "completed"
    failed = "failed"
    expired = "expired"
    cancelled = "cancelled"
    disputed = "disputed"


TERMINAL_STATUSES = frozenset(
    {PayinStatus.completed, PayinStatus.failed, PayinStatus.expired, PayinStatus.cancelled}
)
# Orders that still occupy a requisite (capacity, unique amount) and keep the hold pending.
OPEN_STATUSES = frozenset(
    {PayinStatus.awaiting_payment, PayinStatus.payment_claimed, PayinStatus.disputed}
)


class ActorType(StrEnum):
    system = "system"
    merchant = "merchant"
    customer = "customer"
    trader = "trader"
    admin = "admin"


class HoldAction(StrEnum):
    keep = "keep"
    void = "void"
    post = "post"


class ProcessingActivity(StrEnum):
    """Activity names: workflows call activities by name, never by importing them."""

    match_requisite = "match_requisite"
    record_transition = "record_transition"
    prepare_callback = "prepare_callback"
    deliver_callback = "deliver_callback"
    finish_callback = "finish_callback"


class PayinUpdate(StrEnum):
    """Update names on PayinWorkflow (the API sends them by name)."""

    instructions = "instructions"
    mark_paid = "mark_paid"
    confirm = "confirm"
    cancel = "cancel"


class ProcessingError(StrEnum):
    """ApplicationError types the workflows and the API branch on."""

    invalid_transition = "InvalidTransition"
    order_not_found = "OrderNotFound"
    # A callback URL the SSRF guard refuses: no later rung could succeed, so the ladder stops.
    callback_blocked = "CallbackBlocked"


def payin_workflow_id(order_id: str) -> str:
    return f"payin-{order_id}"


def callback_workflow_id(event_id: str) -> str:
    return f"callback-{event_id}"


# Standard Webhooks style ladder: the first attempt, then nine retries over 3 days 20 hours
# (the promise to merchants is at least three days).
DEFAULT_CALLBACK_DELAYS_S = (60, 300, 1800, 7200, 21600, 43200, 86400, 86400, 86400)


@dataclass
class PayinInput:
    order_id: str
    store_id: str
    merchant_id: str
    callback_delays_s: list[int] = field(default_factory=lambda: list(DEFAULT_CALLBACK_DELAYS_S))


@dataclass
class PayinResult:
    order_id: str
    status: str
    failure_reason: str | None = None


@dataclass
class MatchInput:
    order_id: str


@dataclass
class MatchOutcome:
    """What the merchant needs to show the customer, minus the number (read from the DB)."""

    order_id: str
    matched: bool
    status: str
    failure_reason: str | None = None
    requisite_id: str | None = None
    trader_id: str | None = None
    amount_minor: int | None = None
    expires_at: datetime | None = None
    trader_deadline_s: int = 1800


@dataclass
class InstructionsRequest:
    order_id: str


@dataclass
class ClaimRequest:
    """The customer says they paid (a receipt, if any, is already stored by the API)."""

    receipt_id: str | None = None


@dataclass
class ActorRequest:
    """Confirm or cancel: who asks, and why."""

    actor_type: str
    actor_id: str | None = None
    reason: str | None = None


@dataclass
class TransitionInput:
    """Mirror a status change into the database, with its ledger step, exactly once."""

    order_id: str
    from_status: str
    to_status: str
    actor_type: str
    actor_id: str | None = None
    reason: str | None = None
    hold_action: str = HoldAction.keep.value


@dataclass
class TransitionResult:
    order_id: str
    status: str
    trader_deadline_at: datetime | None = None


@dataclass
class CallbackInput:
    event_id: str
    order_id: str
    event_type: str
    delays_s: list[int] = field(default_factory=lambda: list(DEFAULT_CALLBACK_DELAYS_S))
    # A re-send numbers its attempts after those already recorded for the event.
    first_attempt_no: int = 1


@dataclass
class CallbackPrepared:
    event_id: str
    has_url: bool


@dataclass
class CallbackAttemptInput:
    event_id: str
    attempt_no: int


@dataclass
class CallbackAttemptResult:
    event_id: str
    attempt_no: int
    delivered: bool
    status_code: int | None = None
    error: str | None = None


@dataclass
class CallbackFinished:
    event_id: str
    delivered: bool
    attempts: int
