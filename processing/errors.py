"""Processing's refusals, each with the stable code merchants and traders see."""

from __future__ import annotations

from contracts.processing import FRAUD_DENIED, INSUFFICIENT_BALANCE, NO_REQUISITE
from core.errors import Conflict, Invalid, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"

    def __init__(self) -> None:
        super().__init__("Order not found")


class InvalidTransition(Conflict):
    """The order's status (or its workflow's validator) refuses the action."""

    code = "invalid_transition"


class NoRequisite(Invalid):
    code = NO_REQUISITE


class FraudDenied(Invalid):
    code = FRAUD_DENIED


class InsufficientBalance(Invalid):
    code = INSUFFICIENT_BALANCE


class UnknownReference(Invalid):
    """A bank, payment method or currency code we do not know."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"Unknown {field} {value!r}", code=f"unknown_{field}")


class StillRunning(Exception):
    """The workflow did not answer an update within the wait bound; the engine holds it."""

    def __init__(self, workflow_id: str, update_id: str) -> None:
        super().__init__(f"{workflow_id}: update {update_id} not answered yet")
        self.workflow_id, self.update_id = workflow_id, update_id
