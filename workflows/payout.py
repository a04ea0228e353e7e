"""PayoutWorkflow: screen and hold → pool → taken → paid with proof → review → settle.

Id `payout-{order_id}`. The API starts it with update-with-start (`instructions`), so the
merchant's create call already knows whether the store's balance was held. Traders take a
pooled pay-out with the `take` update (one winner: the workflow serialises them and the
database checks the trader's capacity); the trader marks it paid with a proof stored by the
API; completion waits for the store's review window, during which the merchant may dispute.
Every transition is mirrored into the database by an activity and into search attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from contracts import processing as p
from contracts.processing import ActorType, HoldAction, PayoutStatus, UnpaidPayout
from contracts.search_attributes import MERCHANT_ID, ORDER_STATUS, STORE_ID, TRADER_ID
from workflows.orders import (
    DB_RETRY,
    DISPUTERS,
    SETTLE_FIRST,
    TransitionGate,
    allowed_by,
    escalate_after,
    invalid,
    notify,
    record_transition,
    refused,
    validate_review,
    wait_until,
)

EVENT_TYPES = {
    PayoutStatus.completed: "payout.completed",
    PayoutStatus.expired: "payout.expired",
    PayoutStatus.cancelled: "payout.cancelled",
    PayoutStatus.disputed: "payout.disputed",
    PayoutStatus.failed: "payout.failed",
}
TERMINAL = {
    PayoutStatus.completed,
    PayoutStatus.failed,
    PayoutStatus.expired,
    PayoutStatus.cancelled,
}
CANCELLABLE = {
    ActorType.merchant: {PayoutStatus.created},
    ActorType.admin: {
        PayoutStatus.created,
        PayoutStatus.assigned,
        PayoutStatus.paid,
        PayoutStatus.disputed,
    },
}
CONFIRMABLE = {ActorType.admin: {PayoutStatus.paid, PayoutStatus.disputed}}
# Statuses a trader's take leads to: another take of it is `already_taken`.
TAKEN = {PayoutStatus.assigned, PayoutStatus.paid, PayoutStatus.disputed, PayoutStatus.completed}
DISPUTABLE = {actor: {PayoutStatus.assigned, PayoutStatus.paid} for actor in DISPUTERS}


@workflow.defn
class PayoutWorkflow:
    def __init__(self) -> None:
        self._input: p.PayoutInput | None = None
        self._status = PayoutStatus.created
        self._outcome: p.PayoutOutcome | None = None
        self._taking = False
        self._trader_id: str | None = None
        self._paid: p.PayoutPaidRequest | None = None
        self._confirm: p.ActorRequest | None = None
        self._cancel: p.ActorRequest | None = None
        self._dispute: p.ActorRequest | None = None
        self._review: p.ReviewRequest | None = None
        self._expires_at: datetime | None = None
        self._pay_by: datetime | None = None
        self._review_until: datetime | None = None
        self._gate = TransitionGate()

    @workflow.run
    async def run(self, inp: p.PayoutInput) -> p.PayinResult:
        self._input = inp
        self._gate.settle_first = workflow.patched(SETTLE_FIRST)
        self._publish()
        outcome = await self._hold()
        while outcome.status == PayoutStatus.on_review:
            await workflow.wait_condition(lambda: self._review is not None)
            assert self._review is not None
            review, self._review = self._review, None
            actor = p.ActorRequest(ActorType.admin.value, review.actor_id, review.reason)
            if not review.approve:
                await self._move(PayoutStatus.failed, actor)
                break
            await self._move(PayoutStatus.created, actor)
            outcome = await self._hold()
        if self._status == PayoutStatus.failed and outcome.status == PayoutStatus.failed:
            # Denied by a rule, or the balance did not cover it: nothing is held.
            await self._notify(EVENT_TYPES[PayoutStatus.failed])
        while self._status in (PayoutStatus.created, PayoutStatus.assigned):
            if self._status == PayoutStatus.created:
                await self._await_taker()
            else:
                await self._await_paid()
        if self._status == PayoutStatus.paid:
            await self._await_review()
        if self._status == PayoutStatus.disputed:
            await self._await_resolution()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return p.PayinResult(inp.order_id, self._status.value, outcome.failure_reason)

    async def _hold(self) -> p.PayoutOutcome:
        assert self._input is not None
        outcome = await workflow.execute_activity(
            p.ProcessingActivity.hold_payout,
            p.MatchInput(self._input.order_id),
            result_type=p.PayoutOutcome,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
        self._outcome, self._status = outcome, PayoutStatus(outcome.status)
        self._expires_at = outcome.expires_at
        self._publish()
        return outcome

    async def _await_taker(self) -> None:
        assert self._expires_at is not None
        timeout = max(self._expires_at - workflow.now(), timedelta(0))
        taken_or_cancelled = lambda: bool(  # noqa: E731
            self._status != PayoutStatus.created or self._cancel
        )
        await wait_until(taken_or_cancelled, timeout)
        # A take in flight when the deadline fires decides first.
        await workflow.wait_condition(lambda: not self._taking)
        if self._status != PayoutStatus.created:
            return
        if self._cancel is not None:
            await self._move(PayoutStatus.cancelled, self._cancel, HoldAction.void)
        else:
            await self._move(
                PayoutStatus.expired,
                p.ActorRequest(ActorType.system, None, "take_deadline"),
                HoldAction.void,
            )

    async def _await_paid(self) -> None:
        assert self._input is not None and self._pay_by is not None
        timeout = max(self._pay_by - workflow.now(), timedelta(0))
        if not await wait_until(lambda: bool(self._paid or self._cancel or self._dispute), timeout):
            system = p.ActorRequest(ActorType.system, None, "payment_deadline")
            if self._input.unpaid == UnpaidPayout.pool:
                system.reason = "payment_deadline: back to the pool"
                result = await self._move(PayoutStatus.created, system)
                self._expires_at, self._trader_id = result.expires_at, None
            else:
                await self._move(PayoutStatus.disputed, system)
        elif self._cancel is not None:
            await self._move(PayoutStatus.cancelled, self._cancel, HoldAction.void)
        elif self._dispute is not None:
            await self._move(PayoutStatus.disputed, self._dispute)
        elif self._paid is not None:
            paid = self._paid
            actor = p.ActorRequest(ActorType.trader, paid.trader_id, None, None, paid.proof_id)
            result = await self._move(PayoutStatus.paid, actor)
            self._review_until = result.review_until

    async def _await_review(self) -> None:
        assert self._review_until is not None
        timeout = max(self._review_until - workflow.now(), timedelta(0))
        if timeout > timedelta(0):
            await wait_until(lambda: bool(self._dispute or self._cancel or self._confirm), timeout)
        if self._cancel is not None:
            await self._move(PayoutStatus.cancelled, self._cancel, HoldAction.void)
        elif self._dispute is not None:
            await self._move(PayoutStatus.disputed, self._dispute)
        else:
            actor = self._confirm or p.ActorRequest(ActorType.system, None, "review_window")
            await self._move(PayoutStatus.completed, actor, HoldAction.post)

    async def _await_resolution(self) -> None:
        assert self._input is not None
        decided = lambda: bool(self._confirm or self._cancel)  # noqa: E731
        await escalate_after(self._input.order_id, self._input.dispute_sla_s, decided)
        await workflow.wait_condition(decided)
        if self._cancel is not None:
            await self._move(PayoutStatus.cancelled, self._cancel, HoldAction.void)
        elif self._confirm is not None:
            await self._move(PayoutStatus.completed, self._confirm, HoldAction.post)

    async def _move(
        self, to: PayoutStatus, actor: p.ActorRequest, hold: HoldAction = HoldAction.keep
    ) -> p.TransitionResult:
        assert self._input is not None
        self._gate.moving = to.value
        try:
            result = await record_transition(
                self._input.order_id, self._status.value, to.value, actor, hold
            )
        finally:
            self._gate.moving = None
        workflow.logger.info(
            "pay-out %s: %s → %s by %s", self._input.order_id, self._status, to, actor.actor_type
        )
        self._status = to
        self._publish()
        if to in EVENT_TYPES:
            await self._notify(EVENT_TYPES[to])
        return result

    async def _notify(self, event_type: str) -> None:
        assert self._input is not None
        await notify(self._input.order_id, event_type, self._input.callback_delays_s)

    def _publish(self) -> None:
        assert self._input is not None
        updates = [
            ORDER_STATUS.value_set(self._status.value),
            MERCHANT_ID.value_set(self._input.merchant_id),
            STORE_ID.value_set(self._input.store_id),
        ]
        updates.append(
            TRADER_ID.value_set(self._trader_id) if self._trader_id else TRADER_ID.value_unset()
        )
        workflow.upsert_search_attributes(updates)

    # -- updates -------------------------------------------------------------------------
    # Its name is `PayoutUpdate.instructions`; the API calls it typed (update-with-start).
    @workflow.update
    async def instructions(self, req: p.InstructionsRequest) -> p.PayoutOutcome:
        """Where the pay-out stands once screened and held."""
        await workflow.wait_condition(lambda: self._outcome is not None)
        assert self._outcome is not None
        return self._outcome

    @workflow.update(name=p.PayoutUpdate.take)
    async def take(self, req: p.TakeRequest) -> str:
        if self._gate.settle_first:
            await self._gate.decide(lambda: self._status, self._check_take)
        elif self._taking or self._status != PayoutStatus.created or self._cancel:
            # Validators of updates delivered together all ran before this handler.
            raise invalid("the pay-out has already been taken", p.ALREADY_TAKEN)
        self._taking, self._trader_id = True, req.trader_id
        try:
            actor = p.ActorRequest(ActorType.trader, req.trader_id)
            result = await self._move(PayoutStatus.assigned, actor)
        except ActivityError as exc:
            self._trader_id = None
            cause = exc.cause
            if not isinstance(cause, ApplicationError):
                raise invalid(str(exc)) from exc
            # The database refused the take (the trader's capacity, checked under a lock).
            refusal = invalid(cause.message, *cause.details[:1])
            raise (refused(refusal) if self._gate.settle_first else refusal) from exc
        finally:
            self._taking = False
        self._pay_by = result.trader_deadline_at
        return self._status.value

    @take.validator
    def _validate_take(self, req: p.TakeRequest) -> None:
        if not self._gate.settle_first and self._taking:
            raise invalid("the pay-out has already been taken", p.ALREADY_TAKEN)
        self._gate.judge(self._status, self._check_take)

    def _check_take(self, status: str) -> None:
        if status != PayoutStatus.created or self._cancel:
            code = p.ALREADY_TAKEN if status in TAKEN else p.INVALID_TRANSITION
            raise invalid(f"the pay-out cannot be taken while it is {status}", code)
        if self._expires_at is not None and workflow.now() >= self._expires_at:
            raise invalid("the pay-out's time to be taken is over")

    @workflow.update(name=p.PayoutUpdate.mark_paid)
    async def mark_paid(self, req: p.PayoutPaidRequest) -> str:
        await self._gate.decide(lambda: self._status, self._pays(req))
        self._paid = req
        await workflow.wait_condition(lambda: self._status != PayoutStatus.assigned)
        return self._status.value

    @mark_paid.validator
    def _validate_paid(self, req: p.PayoutPaidRequest) -> None:
        self._gate.judge(self._status, self._pays(req))

    def _pays(self, req: p.PayoutPaidRequest) -> Callable[[str], None]:
        def check(status: str) -> None:
            if status != PayoutStatus.assigned or self._paid or self._cancel or self._dispute:
                raise invalid(f"the pay-out cannot be marked paid while it is {status}")
            if req.trader_id != self._trader_id:
                raise invalid("the pay-out was taken by another trader")
            if self._pay_by is not None and workflow.now() >= self._pay_by:
                raise invalid("the time to pay this pay-out is over")

        return check

    @workflow.update(name=p.PayoutUpdate.confirm)
    async def confirm(self, req: p.ActorRequest) -> str:
        await self._gate.decide(lambda: self._status, self._confirms(req))
        self._confirm = req
        return await self._final_status()

    @confirm.validator
    def _validate_confirm(self, req: p.ActorRequest) -> None:
        self._gate.judge(self._status, self._confirms(req))

    def _confirms(self, req: p.ActorRequest) -> Callable[[str], None]:
        return allowed_by(CONFIRMABLE, req, "complete", lambda: bool(self._cancel or self._confirm))

    @workflow.update(name=p.PayoutUpdate.cancel)
    async def cancel(self, req: p.ActorRequest) -> str:
        await self._gate.decide(lambda: self._status, self._cancels(req))
        self._cancel = req
        return await self._final_status()

    @cancel.validator
    def _validate_cancel(self, req: p.ActorRequest) -> None:
        if not self._gate.settle_first and self._taking:
            raise invalid(f"{req.actor_type} cannot cancel while the pay-out is being taken")
        self._gate.judge(self._status, self._cancels(req))

    def _cancels(self, req: p.ActorRequest) -> Callable[[str], None]:
        return allowed_by(CANCELLABLE, req, "cancel", lambda: bool(self._cancel or self._confirm))

    @workflow.update(name=p.PayoutUpdate.dispute)
    async def dispute(self, req: p.ActorRequest) -> str:
        await self._gate.decide(lambda: self._status, self._disputes(req))
        self._dispute = req
        before = self._status
        await workflow.wait_condition(lambda: self._status != before)
        return self._status.value

    @dispute.validator
    def _validate_dispute(self, req: p.ActorRequest) -> None:
        self._gate.judge(self._status, self._disputes(req))

    def _disputes(self, req: p.ActorRequest) -> Callable[[str], None]:
        def check(status: str) -> None:
            allowed = DISPUTABLE.get(ActorType(req.actor_type), set())
            if status not in allowed or self._dispute or self._cancel or self._confirm:
                raise invalid(f"the order cannot be disputed while it is {status}")
            if self._paid is not None and status == PayoutStatus.assigned:
                raise invalid("the pay-out is being marked paid")

        return check

    @workflow.update(name=p.PayoutUpdate.review)
    async def review(self, req: p.ReviewRequest) -> str:
        await self._gate.decide(lambda: self._status, self._check_review)
        self._review = req
        await workflow.wait_condition(
            lambda: (
                self._status not in (PayoutStatus.on_review, PayoutStatus.created)
                or self._expires_at is not None
            )
        )
        return self._status.value

    @review.validator
    def _validate_review(self, req: p.ReviewRequest) -> None:
        self._gate.judge(self._status, self._check_review)

    def _check_review(self, status: str) -> None:
        validate_review(status, self._review)

    async def _final_status(self) -> str:
        await workflow.wait_condition(lambda: self._status in TERMINAL)
        return self._status.value
