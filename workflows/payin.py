"""PayinWorkflow: match → await payment → await trader confirmation → settle → callback.

Id `payin-{order_id}`. The API starts it with update-with-start (`instructions`), so the
merchant's create call already returns the matched requisite. Customer, trader and admin
actions are updates with validators; deadlines are durable timers. Every transition is
mirrored into the database by an activity (the API reads the database) and into search
attributes (ops filter on them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from contracts import processing as p
from contracts.processing import ActorType, HoldAction, PayinStatus
from contracts.search_attributes import MERCHANT_ID, ORDER_STATUS, STORE_ID, TRADER_ID
from workflows.callback import CallbackWorkflow

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=5)
)
MATCH_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=50),
    backoff_coefficient=1.3,
    maximum_interval=timedelta(seconds=1),
)
EVENT_TYPES = {
    PayinStatus.completed: "payin.completed",
    PayinStatus.expired: "payin.expired",
    PayinStatus.cancelled: "payin.cancelled",
    PayinStatus.disputed: "payin.disputed",
    PayinStatus.failed: "payin.failed",
}
# Who may do what, in which status (validators reject everything else).
CONFIRMABLE = {
    ActorType.trader: {PayinStatus.awaiting_payment, PayinStatus.payment_claimed},
    ActorType.admin: {
        PayinStatus.awaiting_payment,
        PayinStatus.payment_claimed,
        PayinStatus.disputed,
    },
}
CANCELLABLE = {
    ActorType.merchant: {PayinStatus.awaiting_payment},
    ActorType.trader: {PayinStatus.awaiting_payment, PayinStatus.payment_claimed},
    ActorType.admin: {
        PayinStatus.awaiting_payment,
        PayinStatus.payment_claimed,
        PayinStatus.disputed,
    },
}


def invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=p.ProcessingError.invalid_transition, non_retryable=True)


@workflow.defn
class PayinWorkflow:
    def __init__(self) -> None:
        self._input: p.PayinInput | None = None
        self._status = PayinStatus.created
        self._outcome: p.MatchOutcome | None = None
        self._claim: p.ClaimRequest | None = None
        self._confirm: p.ActorRequest | None = None
        self._cancel: p.ActorRequest | None = None
        self._trader_deadline: datetime | None = None

    @workflow.run
    async def run(self, inp: p.PayinInput) -> p.PayinResult:
        self._input = inp
        self._publish()
        outcome = await workflow.execute_activity(
            p.ProcessingActivity.match_requisite,
            p.MatchInput(inp.order_id),
            result_type=p.MatchOutcome,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=MATCH_RETRY,
        )
        self._outcome, self._status = outcome, PayinStatus(outcome.status)
        workflow.logger.info("pay-in %s matched: %s", inp.order_id, outcome.status)
        self._publish(outcome.trader_id)
        if not outcome.matched and workflow.patched("notify-failed"):
            # No requisite could take it: the merchant hears so, as of every final status.
            await self._notify(EVENT_TYPES[PayinStatus.failed])
        if outcome.matched:
            await self._await_payment(outcome.expires_at)
        if self._status == PayinStatus.payment_claimed:
            await self._await_confirmation()
        if self._status == PayinStatus.disputed:
            await self._await_resolution()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return p.PayinResult(inp.order_id, self._status.value, outcome.failure_reason)

    async def _await_payment(self, expires_at: datetime | None) -> None:
        assert expires_at is not None
        timeout = max(expires_at - workflow.now(), timedelta(0))
        if not await self._wait(
            lambda: bool(self._claim or self._confirm or self._cancel), timeout
        ):
            await self._move(
                PayinStatus.expired,
                p.ActorRequest(ActorType.system, None, "payment_deadline"),
                HoldAction.void,
            )
        elif not await self._act_on_confirm_or_cancel() and self._claim is not None:
            claim, self._claim = self._claim, None
            result = await self._move(
                PayinStatus.payment_claimed,
                p.ActorRequest(ActorType.customer, None, claim.receipt_id),
            )
            self._trader_deadline = result.trader_deadline_at

    async def _await_confirmation(self) -> None:
        assert self._trader_deadline is not None
        timeout = max(self._trader_deadline - workflow.now(), timedelta(0))
        if not await self._wait(lambda: bool(self._confirm or self._cancel), timeout):
            await self._move(
                PayinStatus.disputed, p.ActorRequest(ActorType.system, None, "trader_deadline")
            )
        else:
            await self._act_on_confirm_or_cancel()

    async def _await_resolution(self) -> None:
        # A dispute waits for an admin; there is no deadline that could decide it silently.
        await workflow.wait_condition(lambda: bool(self._confirm or self._cancel))
        await self._act_on_confirm_or_cancel()

    async def _act_on_confirm_or_cancel(self) -> bool:
        if self._cancel is not None:
            await self._move(PayinStatus.cancelled, self._cancel, HoldAction.void)
        elif self._confirm is not None:
            await self._move(PayinStatus.completed, self._confirm, HoldAction.post)
        else:
            return False
        return True

    async def _wait(self, condition: Callable[[], bool], limit: timedelta) -> bool:
        try:
            await workflow.wait_condition(condition, timeout=limit)
        except TimeoutError:
            return condition()
        return True

    async def _move(
        self, to: PayinStatus, actor: p.ActorRequest, hold: HoldAction = HoldAction.keep
    ) -> p.TransitionResult:
        assert self._input is not None
        result = await workflow.execute_activity(
            p.ProcessingActivity.record_transition,
            p.TransitionInput(
                self._input.order_id,
                self._status.value,
                to.value,
                str(actor.actor_type),
                actor.actor_id,
                actor.reason,
                hold.value,
            ),
            result_type=p.TransitionResult,
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=DB_RETRY,
        )
        # The workflow logger is replay-aware: a line per transition, never twice.
        workflow.logger.info(
            "pay-in %s: %s → %s by %s", self._input.order_id, self._status, to, actor.actor_type
        )
        self._status = to
        self._publish()
        if to in EVENT_TYPES:
            await self._notify(EVENT_TYPES[to])
        return result

    async def _notify(self, event_type: str) -> None:
        assert self._input is not None
        event_id = "evt_" + workflow.uuid4().hex
        await workflow.start_child_workflow(
            CallbackWorkflow.run,
            p.CallbackInput(
                event_id, self._input.order_id, event_type, self._input.callback_delays_s
            ),
            id=p.callback_workflow_id(event_id),
            # The callback outlives the order's workflow and never changes its outcome.
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    def _publish(self, trader_id: str | None = None) -> None:
        assert self._input is not None
        updates = [
            ORDER_STATUS.value_set(self._status.value),
            MERCHANT_ID.value_set(self._input.merchant_id),
            STORE_ID.value_set(self._input.store_id),
        ]
        if trader_id:
            updates.append(TRADER_ID.value_set(trader_id))
        workflow.upsert_search_attributes(updates)

    # Its name is `PayinUpdate.instructions`; the API calls it typed (update-with-start).
    @workflow.update
    async def instructions(self, req: p.InstructionsRequest) -> p.MatchOutcome:
        """The match result; waits for matching when the workflow has just started."""
        await workflow.wait_condition(lambda: self._outcome is not None)
        assert self._outcome is not None
        return self._outcome

    @workflow.update(name=p.PayinUpdate.mark_paid)
    async def mark_paid(self, req: p.ClaimRequest) -> str:
        self._claim = req
        return await self._settled_status(PayinStatus.awaiting_payment)

    @mark_paid.validator
    def _validate_paid(self, req: p.ClaimRequest) -> None:
        if (
            self._status != PayinStatus.awaiting_payment
            or self._claim
            or self._cancel
            or self._confirm
        ):
            raise invalid(f"payment cannot be claimed while the order is {self._status.value}")

    @workflow.update(name=p.PayinUpdate.confirm)
    async def confirm(self, req: p.ActorRequest) -> str:
        self._confirm = req
        return await self._final_status()

    @confirm.validator
    def _validate_confirm(self, req: p.ActorRequest) -> None:
        allowed = CONFIRMABLE.get(ActorType(req.actor_type), set())
        if self._status not in allowed or self._cancel or self._confirm:
            raise invalid(
                f"{req.actor_type} cannot confirm while the order is {self._status.value}"
            )

    @workflow.update(name=p.PayinUpdate.cancel)
    async def cancel(self, req: p.ActorRequest) -> str:
        self._cancel = req
        return await self._final_status()

    @cancel.validator
    def _validate_cancel(self, req: p.ActorRequest) -> None:
        allowed = CANCELLABLE.get(ActorType(req.actor_type), set())
        if self._status not in allowed or self._cancel or self._confirm:
            raise invalid(f"{req.actor_type} cannot cancel while the order is {self._status.value}")
        if req.actor_type == ActorType.trader and not req.reason:
            raise invalid("a trader cancels with a reason")

    async def _settled_status(self, before: PayinStatus) -> str:
        await workflow.wait_condition(lambda: self._status != before)
        return self._status.value

    async def _final_status(self) -> str:
        # An accepted confirm or cancel always ends the order (possibly a phase later).
        await workflow.wait_condition(lambda: self._status in p.TERMINAL_STATUSES)
        return self._status.value
