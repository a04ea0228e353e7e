"""What the pay-in and pay-out workflows share: refusals, who may dispute, the dispute SLA.

Standard library and Temporal only (workflow code): activities are called by name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from contracts import processing as p
from contracts.processing import ActorType

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=5)
)
# A merchant (for its customer), support or an admin may open a dispute.
DISPUTERS = (ActorType.merchant, ActorType.support, ActorType.admin)


def invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=p.ProcessingError.invalid_transition, non_retryable=True)


def validate_review(status: str, pending: p.ReviewRequest | None) -> None:
    if status != "on_review" or pending is not None:
        raise invalid(f"the order is {status}, not waiting for a review")


async def escalate_after(order_id: str, sla_s: int, decided: Callable[[], bool]) -> None:
    """Wait up to the SLA for a decision; past it, flag the dispute (and keep waiting)."""
    try:
        await workflow.wait_condition(decided, timeout=timedelta(seconds=sla_s))
    except TimeoutError:
        if decided():
            return
        await workflow.execute_activity(
            p.ProcessingActivity.escalate_dispute,
            p.EscalateInput(order_id),
            result_type=bool,
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=DB_RETRY,
        )
        workflow.logger.info("dispute on %s escalated after %s s", order_id, sla_s)
