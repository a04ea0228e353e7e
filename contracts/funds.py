"""Deposits and withdrawals: statuses, update and activity names, workflow payloads.

Standard library only: the workflows import it. Payloads carry ids and references, never a
destination address or card number (histories are stored in clear and shown in the UI).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from contracts.processing import DEFAULT_CALLBACK_DELAYS_S

# The same staff member approving twice, or approving their own request.
SAME_APPROVER = "same_approver"
DEFAULT_WITHDRAWAL_SLA_S = 4 * 3600


class FundsKind(StrEnum):
    """The `FundsKind` search attribute: which money movement a workflow carries."""

    deposit = "deposit"
    withdrawal = "withdrawal"


class OwnerKind(StrEnum):
    """Whose balance moves: a trader's, or a merchant's store's."""

    trader = "trader"
    store = "store"


class DepositStatus(StrEnum):
    requested = "requested"
    confirmed = "confirmed"
    credited = "credited"
    rejected = "rejected"


class WithdrawalStatus(StrEnum):
    requested = "requested"
    approved = "approved"
    paid = "paid"
    completed = "completed"
    rejected = "rejected"
    cancelled = "cancelled"


class FundsUpdate(StrEnum):
    """Update names on DepositWorkflow and WithdrawalWorkflow (the API sends them by name)."""

    approve = "approve"
    reject = "reject"
    mark_paid = "mark_paid"
    cancel = "cancel"


class FundsActivity(StrEnum):
    record_deposit = "record_deposit"
    record_withdrawal = "record_withdrawal"
    escalate_withdrawal = "escalate_withdrawal"


class FundsError(StrEnum):
    """ApplicationError types: a validator's refusal (its stable code is the first detail)."""

    refused = "FundsRefused"


def deposit_workflow_id(deposit_id: str) -> str:
    return f"deposit-{deposit_id}"


def withdrawal_workflow_id(withdrawal_id: str) -> str:
    return f"withdrawal-{withdrawal_id}"


@dataclass
class DepositInput:
    deposit_id: str
    # Above the platform's threshold: a second, different staff member must approve.
    needs_two: bool
    # Staff who asked for it themselves (an admin's direct deposit): they count as the
    # first approver and may not be the second.
    requested_by: str | None = None


@dataclass
class WithdrawalInput:
    withdrawal_id: str
    needs_two: bool
    sla_s: int = DEFAULT_WITHDRAWAL_SLA_S
    # Set for a store's withdrawal: its merchant gets `withdrawal.*` callbacks.
    store_id: str | None = None
    callback_delays_s: list[int] = field(default_factory=lambda: list(DEFAULT_CALLBACK_DELAYS_S))


@dataclass
class StaffDecision:
    """A staff member approves (or rejects) a request."""

    actor_id: str
    reason: str | None = None


@dataclass
class PaidRequest:
    """Staff paid a withdrawal: the transaction hash, or the id of a stored proof."""

    actor_id: str
    tx_hash: str | None = None
    proof_key: str | None = None


@dataclass
class OwnerCancel:
    actor_type: str
    actor_id: str


@dataclass
class FundsTransition:
    """Mirror one step into the database (status, who, the ledger) exactly once."""

    funds_id: str
    from_status: str
    to_status: str
    actor_type: str
    actor_id: str | None = None
    reason: str | None = None
    tx_hash: str | None = None
    proof_key: str | None = None
    # A store's withdrawal: the merchant event this step raises (delivery row written in
    # the same transaction).
    event_id: str | None = None
    event_type: str | None = None


@dataclass
class FundsTransitionResult:
    funds_id: str
    status: str
    event_has_url: bool = False


@dataclass
class EscalateWithdrawal:
    withdrawal_id: str
    sla_s: int
