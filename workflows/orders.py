"""What the pay-in and pay-out workflows share: refusals, who may dispute, the dispute SLA.

Standard library and Temporal only (workflow code): activities are called by name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from contracts import processing as p
from contracts.processing import ActorType, HoldAction
from workflows.callback import CallbackWorkflow, attempt, finish, prepare
from workflows.steps import run_step

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=5)
)
# A merchant (for its customer), support or an admin may open a dispute.
DISPUTERS = (ActorType.merchant, ActorType.support, ActorType.admin)


def invalid(message: str, code: str = p.INVALID_TRANSITION) -> ApplicationError:
    """A validator's refusal, with the stable code the API answers with."""
    return ApplicationError(
        message, code, type=p.ProcessingError.invalid_transition, non_retryable=True
    )


def refused(exc: ApplicationError) -> ApplicationError:
    """The same refusal, decided by a handler after its update was accepted."""
    return ApplicationError(
        exc.message, *exc.details, type=p.ProcessingError.transition_refused, non_retryable=True
    )


# Runs started since this patch decide an action that arrives while a transition is in
# flight (a client acted on what the database already shows) once it has landed, instead of
# refusing it on the status the workflow has not caught up with yet.
SETTLE_FIRST = "settle-first"


class TransitionGate:
    """Where an order's transition in flight leads (`moving`), and the two halves of every
    action's decision: the validator's (`judge`) and, in settle-first runs, the handler's
    (`decide`, once nothing is in flight)."""

    def __init__(self) -> None:
        self.moving: str | None = None
        self.settle_first = False

    def judge(self, status: str, check: Callable[[str], None]) -> None:
        """Refuse only what the status refuses and, while a transition is in flight, what
        the status it leads to refuses too (then the handler decides)."""
        try:
            check(status)
        except ApplicationError:
            if not (self.settle_first and self.moving is not None):
                raise
            check(self.moving)

    async def decide(self, status: Callable[[], str], check: Callable[[str], None]) -> None:
        """Wait for the transition in flight (if any), then check against where the order
        is now; a refusal here is the handler's (`TransitionRefused`)."""
        if not self.settle_first:
            return
        while self.moving is not None:
            await workflow.wait_condition(lambda: self.moving is None)
        try:
            check(status())
        except ApplicationError as exc:
            raise refused(exc) from None


def allowed_by(
    table: Mapping[ActorType, Collection[str]], req: p.ActorRequest, verb: str,
    taken: Callable[[], bool],
) -> Callable[[str], None]:  # fmt: skip
    """The check of an actor's action: a status the table allows this actor, and no
    decision `taken` already (a confirm or cancel accepted before it)."""
    allowed = table.get(ActorType(req.actor_type), ())

    def check(status: str) -> None:
        if status not in allowed or taken():
            raise invalid(f"{req.actor_type} cannot {verb} while the order is {status}")

    return check


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


async def wait_until(condition: Callable[[], bool], limit: timedelta) -> bool:
    """Whether the condition holds, waiting at most `limit` for it."""
    try:
        await workflow.wait_condition(condition, timeout=limit)
    except TimeoutError:
        return condition()
    return True


async def record_transition(
    order_id: str,
    before: str,
    to: str,
    actor: p.ActorRequest,
    hold: HoldAction,
    local: bool = False,
    event: tuple[str, str] | None = None,
) -> p.TransitionResult:
    """Mirror one status change into the database (audit event, hold, settlement), and
    show it as the run's current details in the Temporal UI.

    `local`: run it as a local activity, inside the workflow task that decided it (one
    database transaction, no activity task round trip through the server). `event`: the
    (event id, type) of the merchant event this status raises, whose delivery row is
    written in the same transaction."""
    inp = p.TransitionInput(
        order_id,
        before,
        to,
        str(actor.actor_type),
        actor.actor_id,
        actor.reason,
        hold.value,
        actor.actual_amount_minor,
        actor.evidence_id,
        *(event or (None, None)),
    )
    result: p.TransitionResult = await run_step(
        p.ProcessingActivity.record_transition,
        inp,
        local=local,
        limit=timedelta(seconds=15),
        retry=DB_RETRY,
        result_type=p.TransitionResult,
    )
    # Not a command: the UI reads it through the metadata query (replays are unaffected).
    workflow.set_current_details(current_details(result, actor))
    return result


def current_details(result: p.TransitionResult, actor: p.ActorRequest) -> str:
    """`**payment_claimed** by customer · until 2026-11-29T12:00:00+00:00`: where the order
    is, who moved it there, and the deadline it now waits for."""
    who = str(actor.actor_type) + (f" {actor.actor_id}" if actor.actor_type == "trader" else "")
    parts = [f"**{result.status}** by {who}"]
    deadline = result.trader_deadline_at or result.review_until or result.expires_at
    if deadline is not None:
        parts.append(f"until {deadline.isoformat(timespec='seconds')}")
    return " · ".join(parts)


async def notify(order_id: str, event_type: str, delays_s: list[int]) -> None:
    """Start the merchant callback for an event; it outlives the order's workflow and never
    changes its outcome."""
    event_id = new_event_id()
    await workflow.start_child_workflow(
        CallbackWorkflow.run,
        p.CallbackInput(event_id, order_id, event_type, delays_s),
        id=p.callback_workflow_id(event_id),
        parent_close_policy=ParentClosePolicy.ABANDON,
    )


def new_event_id() -> str:
    return "evt_" + workflow.uuid4().hex


async def deliver(
    order_id: str, event_type: str, delays_s: list[int], written: tuple[str, bool] | None = None
) -> None:
    """Deliver a merchant event from the order's own workflow (lean runs).

    The delivery row with its frozen body is written by a local activity, or was already
    (`written`: its event id and whether it has a URL; lean-v2 writes it in the transition's
    transaction). The first signed POST is an activity of this workflow. Only when it fails
    does a CallbackWorkflow (a child, abandoned like before) take the ladder's remaining
    rungs, with the same event id and attempt numbers. The caller runs this beside the
    order's flow, never in its way."""
    event_id, has_url = written or (new_event_id(), False)
    inp = p.CallbackInput(event_id, order_id, event_type, delays_s)
    if written is None:
        has_url = (await prepare(inp, local=True)).has_url
    if not has_url:
        return
    outcome = await attempt(event_id, 1)
    if outcome:
        return
    if outcome is None:  # refused by the SSRF guard: no rung can succeed
        await finish(p.CallbackFinished(event_id, False, 1), local=True)
        return
    await workflow.start_child_workflow(
        CallbackWorkflow.run,
        replace(inp, first_attempt_no=2, after_first_attempt=True),
        id=p.callback_workflow_id(event_id),
        parent_close_policy=ParentClosePolicy.ABANDON,
    )
