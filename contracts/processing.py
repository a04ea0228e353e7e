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
# A pay-out the store's balance could not cover: nothing was held, the id may be used again.
INSUFFICIENT_BALANCE = "insufficient_balance"
# An order whose workflow never started (the workflow engine was down at create and the
# merchant did not retry): failed by the orphan reconciler; nothing was held.
NOT_STARTED = "not_started"
RETRYABLE_FAILURES = (NO_REQUISITE, INSUFFICIENT_BALANCE, NOT_STARTED)
# Fraud outcomes as failure reasons: a block-list or rule denial, an admin's review rejection.
FRAUD_DENIED = "fraud_denied"
FRAUD_REJECTED = "fraud_rejected"
# Stable codes of refusals the workflows decide (the API shows them as they are).
INVALID_TRANSITION = "invalid_transition"
ALREADY_TAKEN = "already_taken"
CAPACITY_REACHED = "capacity_reached"
PAYOUT_DISABLED = "payout_disabled"


class OrderKind(StrEnum):
    payin = "payin"
    payout = "payout"


class PayinStatus(StrEnum):
    created = "created"
    # A fraud rule asked for a human: an admin approves (matching goes on) or rejects.
    on_review = "on_review"
    awaiting_payment = "awaiting_payment"
    payment_claimed = "payment_claimed"
    completed = "completed"
    failed = "failed"
    expired = "expired"
    cancelled = "cancelled"
    disputed = "disputed"


class PayoutStatus(StrEnum):
    created = "created"  # the store's balance is held; in the pool for traders to take
    on_review = "on_review"
    assigned = "assigned"  # a trader took it and pays the recipient off-platform
    paid = "paid"  # the trader marked it paid with proof; the review window runs
    completed = "completed"
    failed = "failed"
    expired = "expired"
    cancelled = "cancelled"
    disputed = "disputed"


class OrderStatus(StrEnum):
    """Every status either kind of order can be in (the `orders.status` column)."""

    created = "created"
    on_review = "on_review"
    awaiting_payment = "awaiting_payment"
    payment_claimed = "payment_claimed"
    assigned = "assigned"
    paid = "paid"
    completed = "completed"
    failed = "failed"
    expired = "expired"
    cancelled = "cancelled"
    disputed = "disputed"


assert {*PayinStatus, *PayoutStatus} == set(OrderStatus)

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
    support = "support"
    # The trader's own bank statement (Connect) showed the payable amount arriving.
    bank_statement = "bank_statement"


class HoldAction(StrEnum):
    keep = "keep"
    void = "void"
    post = "post"


class ProcessingActivity(StrEnum):
    """Activity names: workflows call activities by name, never by importing them."""

    match_requisite = "match_requisite"
    record_transition = "record_transition"
    hold_payout = "hold_payout"
    escalate_dispute = "escalate_dispute"
    prepare_callback = "prepare_callback"
    deliver_callback = "deliver_callback"
    finish_callback = "finish_callback"
    fail_orphans = "fail_orphans"


class PayinUpdate(StrEnum):
    """Update names on PayinWorkflow (the API sends them by name)."""

    instructions = "instructions"
    mark_paid = "mark_paid"
    confirm = "confirm"
    cancel = "cancel"
    dispute = "dispute"
    review = "review"


class PayoutUpdate(StrEnum):
    """Update names on PayoutWorkflow (confirm, cancel, dispute and review as on pay-ins)."""

    instructions = "instructions"
    take = "take"
    mark_paid = "mark_paid"
    confirm = "confirm"
    cancel = "cancel"
    dispute = "dispute"
    review = "review"


class UnpaidPayout(StrEnum):
    """What happens to a taken pay-out its trader did not mark paid in time (a setting)."""

    dispute = "dispute"
    pool = "pool"


class ProcessingError(StrEnum):
    """ApplicationError types the workflows and the API branch on."""

    # A validator's refusal: not recorded, so the same update id may be sent again.
    invalid_transition = "InvalidTransition"
    # The same refusal decided by a handler, after the update was accepted (it waited for a
    # transition in flight, or the database refused the step): Temporal keeps it as the
    # answer to that update id, so a later attempt must use another id.
    transition_refused = "TransitionRefused"
    order_not_found = "OrderNotFound"
    # A callback URL the SSRF guard refuses: no later rung could succeed, so the ladder stops.
    callback_blocked = "CallbackBlocked"


def payin_workflow_id(order_id: str) -> str:
    return f"payin-{order_id}"


def payout_workflow_id(order_id: str) -> str:
    return f"payout-{order_id}"


def order_workflow_id(kind: str, order_id: str) -> str:
    return payout_workflow_id(order_id) if kind == OrderKind.payout else payin_workflow_id(order_id)


CALLBACK_WORKFLOW = "CallbackWorkflow"


def callback_workflow_id(event_id: str) -> str:
    return f"callback-{event_id}"


# Standard Webhooks style ladder: the first attempt, then nine retries over 3 days 20 hours
# (the promise to merchants is at least three days).
DEFAULT_CALLBACK_DELAYS_S = (60, 300, 1800, 7200, 21600, 43200, 86400, 86400, 86400)
DEFAULT_DISPUTE_SLA_S = 86_400


@dataclass
class PayinInput:
    order_id: str
    store_id: str
    merchant_id: str
    callback_delays_s: list[int] = field(default_factory=lambda: list(DEFAULT_CALLBACK_DELAYS_S))
    # A dispute no one resolves within this time is escalated (never decided by the timer).
    dispute_sla_s: int = DEFAULT_DISPUTE_SLA_S


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
    """Confirm, cancel or dispute: who asks, and why. An admin resolving a dispute may
    complete the order with the amount that actually moved (`actual_amount_minor`); a
    dispute may carry the evidence file already stored by the API (`evidence_id`)."""

    actor_type: str
    actor_id: str | None = None
    reason: str | None = None
    actual_amount_minor: int | None = None
    evidence_id: str | None = None


@dataclass
class ReviewRequest:
    """An admin's decision on an order a fraud rule sent to review."""

    actor_id: str
    approve: bool
    reason: str | None = None


@dataclass
class PayoutInput:
    order_id: str
    store_id: str
    merchant_id: str
    callback_delays_s: list[int] = field(default_factory=lambda: list(DEFAULT_CALLBACK_DELAYS_S))
    dispute_sla_s: int = DEFAULT_DISPUTE_SLA_S
    unpaid: str = UnpaidPayout.dispute.value


@dataclass
class PayoutOutcome:
    """Where a pay-out stands after screening and holding (what create answers with)."""

    order_id: str
    status: str
    failure_reason: str | None = None
    expires_at: datetime | None = None


@dataclass
class TakeRequest:
    trader_id: str


@dataclass
class PayoutPaidRequest:
    trader_id: str
    proof_id: str


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
    actual_amount_minor: int | None = None
    evidence_id: str | None = None
    # Lean pay-ins (patch lean-v2): the merchant event this status raises; its delivery row,
    # with the frozen body, is written in the transition's own transaction.
    event_id: str | None = None
    event_type: str | None = None


@dataclass
class TransitionResult:
    order_id: str
    status: str
    trader_deadline_at: datetime | None = None
    # Pay-outs: back in the pool until `expires_at`; paid, completing at `review_until`.
    expires_at: datetime | None = None
    review_until: datetime | None = None
    # With an event: whether its delivery has a URL to be sent to.
    event_has_url: bool | None = None


@dataclass
class EscalateInput:
    order_id: str


@dataclass
class CallbackInput:
    event_id: str
    order_id: str
    event_type: str
    delays_s: list[int] = field(default_factory=lambda: list(DEFAULT_CALLBACK_DELAYS_S))
    # A re-send numbers its attempts after those already recorded for the event.
    first_attempt_no: int = 1
    # The order's workflow made the first attempt itself and it failed: the ladder goes on
    # from its first delay (no immediate attempt).
    after_first_attempt: bool = False


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
