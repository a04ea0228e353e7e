"""PayinWorkflow: match → await payment → await trader confirmation → settle → callback.

Id `payin-{order_id}`. The API starts it with update-with-start (`instructions`), so the
merchant's create call already returns the matched requisite. Customer, trader and admin
actions are updates with validators; deadlines are durable timers. Every transition is
mirrored into the database by an activity (the API reads the database) and into search
attributes (ops filter on them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from contracts import processing as p
from contracts.processing import ActorType, HoldAction, PayinStatus
from contracts.search_attributes import MERCHANT_ID, ORDER_STATUS, STORE_ID, TRADER_ID
from workflows.orders import (
    DISPUTERS,
    SETTLE_FIRST,
    TransitionGate,
    allowed_by,
    deliver,
    escalate_after,
    invalid,
    new_event_id,
    notify,
    record_transition,
    validate_review,
    wait_until,
)
from workflows.steps import run_step

# The patches behind which runs got lean (see PayinWorkflow.__init__): lean-v1 made matching
# and transitions local activities; lean-v2 also writes a merchant event's delivery row in
# the transaction of the transition that raised it (no local activity of its own).
LEAN = "lean-v1"
LEAN_V2 = "lean-v2"
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
    ActorType.bank_statement: {PayinStatus.awaiting_payment, PayinStatus.payment_claimed},
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


# Who may open a dispute, in which status (a timeout opens one too: the trader's deadline).
DISPUTABLE = {
    actor: {PayinStatus.awaiting_payment, PayinStatus.payment_claimed} for actor in DISPUTERS
}


@workflow.defn
class PayinWorkflow:
    def __init__(self) -> None:
        self._input: p.PayinInput | None = None
        self._status = PayinStatus.created
        self._outcome: p.MatchOutcome | None = None
        self._claim: p.ClaimRequest | None = None
        self._confirm: p.ActorRequest | None = None
        self._cancel: p.ActorRequest | None = None
        self._dispute: p.ActorRequest | None = None
        self._review: p.ReviewRequest | None = None
        self._trader_deadline: datetime | None = None
        # Lean runs (every run started since): matching and transitions are local
        # activities, and the API sets the first search attributes at start.
        self._lean = False
        self._lean_v2 = False
        self._deliveries: list[asyncio.Task[None]] = []  # lean runs: callbacks in flight
        self._gate = TransitionGate()

    @workflow.run
    async def run(self, inp: p.PayinInput) -> p.PayinResult:
        self._input = inp
        # A new run marks settle-first only (lean-v2 and lean-v1 are implied); runs begun
        # under an earlier patch replay it as they were recorded.
        self._gate.settle_first = workflow.patched(SETTLE_FIRST)
        self._lean_v2 = self._gate.settle_first or workflow.patched(LEAN_V2)
        self._lean = self._lean_v2 or workflow.patched(LEAN)
        if not self._lean:
            self._publish()
        outcome = await self._match()
        while outcome.status == PayinStatus.on_review:
            # A fraud rule asked for a human: an admin approves (matching goes on) or rejects.
            await workflow.wait_condition(lambda: self._review is not None)
            assert self._review is not None
            review, self._review = self._review, None
            actor = p.ActorRequest(ActorType.admin.value, review.actor_id, review.reason)
            if not review.approve:
                await self._move(PayinStatus.failed, actor)
                await self._finish()
                return p.PayinResult(inp.order_id, self._status.value, p.FRAUD_REJECTED)
            await self._move(PayinStatus.created, actor)
            outcome = await self._match()
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
        await self._finish()
        return p.PayinResult(inp.order_id, self._status.value, outcome.failure_reason)

    async def _finish(self) -> None:
        """Before the run ends: its callbacks' first attempts, and every update handler."""
        if self._deliveries:
            await asyncio.gather(*self._deliveries)
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _match(self) -> p.MatchOutcome:
        assert self._input is not None
        outcome: p.MatchOutcome = await run_step(
            p.ProcessingActivity.match_requisite,
            p.MatchInput(self._input.order_id),
            local=self._lean,
            limit=timedelta(seconds=30),
            retry=MATCH_RETRY,
            result_type=p.MatchOutcome,
        )
        self._outcome, self._status = outcome, PayinStatus(outcome.status)
        workflow.logger.info("pay-in %s matched: %s", self._input.order_id, outcome.status)
        details = f"**{outcome.status}**"
        if outcome.trader_id:
            details += f" · trader {outcome.trader_id}"
        if outcome.expires_at:
            details += f" · until {outcome.expires_at.isoformat(timespec='seconds')}"
        workflow.set_current_details(details)
        return outcome

    async def _await_payment(self, expires_at: datetime | None) -> None:
        assert expires_at is not None
        timeout = max(expires_at - workflow.now(), timedelta(0))
        if not await wait_until(
            lambda: bool(self._claim or self._confirm or self._cancel or self._dispute), timeout
        ):
            await self._move(
                PayinStatus.expired,
                p.ActorRequest(ActorType.system, None, "payment_deadline"),
                HoldAction.void,
            )
        elif await self._act_on_dispute():
            return
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
        if not await wait_until(
            lambda: bool(self._confirm or self._cancel or self._dispute), timeout
        ):
            await self._move(
                PayinStatus.disputed, p.ActorRequest(ActorType.system, None, "trader_deadline")
            )
        elif not await self._act_on_dispute():
            await self._act_on_confirm_or_cancel()

    async def _act_on_dispute(self) -> bool:
        if self._dispute is None or self._confirm or self._cancel:
            return False
        await self._move(PayinStatus.disputed, self._dispute)
        return True

    async def _await_resolution(self) -> None:
        # A dispute waits for an admin; no deadline decides it silently. Past its SLA it is
        # escalated (flagged for the admin queue) and keeps waiting.
        assert self._input is not None
        decided = lambda: bool(self._confirm or self._cancel)  # noqa: E731
        if workflow.patched("dispute-sla"):
            await escalate_after(self._input.order_id, self._input.dispute_sla_s, decided)
        await workflow.wait_condition(decided)
        await self._act_on_confirm_or_cancel()

    async def _act_on_confirm_or_cancel(self) -> bool:
        if self._cancel is not None:
            await self._move(PayinStatus.cancelled, self._cancel, HoldAction.void)
        elif self._confirm is not None:
            await self._move(PayinStatus.completed, self._confirm, HoldAction.post)
        else:
            return False
        return True

    async def _move(
        self, to: PayinStatus, actor: p.ActorRequest, hold: HoldAction = HoldAction.keep
    ) -> p.TransitionResult:
        assert self._input is not None
        event = None
        if self._lean_v2 and to in EVENT_TYPES:
            event = (new_event_id(), EVENT_TYPES[to])
        self._gate.moving = to.value
        try:
            result = await record_transition(
                self._input.order_id,
                self._status.value,
                to.value,
                actor,
                hold,
                local=self._lean,
                event=event,
            )
        finally:
            self._gate.moving = None
        # The workflow logger is replay-aware: a line per transition, never twice.
        workflow.logger.info(
            "pay-in %s: %s → %s by %s", self._input.order_id, self._status, to, actor.actor_type
        )
        self._status = to
        self._publish()
        if event is not None:
            await self._notify(event[1], (event[0], bool(result.event_has_url)))
        elif to in EVENT_TYPES:
            await self._notify(EVENT_TYPES[to])
        return result

    async def _notify(self, event_type: str, written: tuple[str, bool] | None = None) -> None:
        assert self._input is not None
        inp = self._input
        if self._lean:  # delivered beside the order's flow; awaited before the run ends
            delivery = deliver(inp.order_id, event_type, inp.callback_delays_s, written)
            self._deliveries.append(asyncio.create_task(delivery))
        else:
            await notify(inp.order_id, event_type, inp.callback_delays_s)

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
        await self._gate.decide(lambda: self._status, self._check_paid)
        self._claim = req
        return await self._settled_status(PayinStatus.awaiting_payment)

    @mark_paid.validator
    def _validate_paid(self, req: p.ClaimRequest) -> None:
        self._gate.judge(self._status, self._check_paid)

    def _check_paid(self, status: str) -> None:
        if status != PayinStatus.awaiting_payment or self._claim or self._cancel or self._confirm:
            raise invalid(f"payment cannot be claimed while the order is {status}")

    @workflow.update(name=p.PayinUpdate.confirm)
    async def confirm(self, req: p.ActorRequest) -> str:
        await self._gate.decide(lambda: self._status, self._confirms(req))
        self._confirm = req
        return await self._final_status()

    @confirm.validator
    def _validate_confirm(self, req: p.ActorRequest) -> None:
        self._gate.judge(self._status, self._confirms(req))

    def _confirms(self, req: p.ActorRequest) -> Callable[[str], None]:
        return allowed_by(CONFIRMABLE, req, "confirm", lambda: bool(self._cancel or self._confirm))

    @workflow.update(name=p.PayinUpdate.cancel)
    async def cancel(self, req: p.ActorRequest) -> str:
        await self._gate.decide(lambda: self._status, self._cancels(req))
        self._cancel = req
        return await self._final_status()

    @cancel.validator
    def _validate_cancel(self, req: p.ActorRequest) -> None:
        if req.actor_type == ActorType.trader and not req.reason:
            raise invalid("a trader cancels with a reason")
        self._gate.judge(self._status, self._cancels(req))

    def _cancels(self, req: p.ActorRequest) -> Callable[[str], None]:
        return allowed_by(CANCELLABLE, req, "cancel", lambda: bool(self._cancel or self._confirm))

    @workflow.update(name=p.PayinUpdate.dispute)
    async def dispute(self, req: p.ActorRequest) -> str:
        await self._gate.decide(lambda: self._status, self._disputes(req))
        self._dispute = req
        return await self._settled_status(self._status)

    @dispute.validator
    def _validate_dispute(self, req: p.ActorRequest) -> None:
        self._gate.judge(self._status, self._disputes(req))

    def _disputes(self, req: p.ActorRequest) -> Callable[[str], None]:
        def check(status: str) -> None:
            allowed = DISPUTABLE.get(ActorType(req.actor_type), set())
            if status not in allowed or self._dispute or self._cancel or self._confirm:
                raise invalid(f"the order cannot be disputed while it is {status}")

        return check

    @workflow.update(name=p.PayinUpdate.review)
    async def review(self, req: p.ReviewRequest) -> str:
        await self._gate.decide(lambda: self._status, self._check_review)
        self._review = req
        # Answers once the decision took effect: rejected, or approved and matched.
        await workflow.wait_condition(
            lambda: self._status not in (PayinStatus.on_review, PayinStatus.created)
        )
        return self._status.value

    @review.validator
    def _validate_review(self, req: p.ReviewRequest) -> None:
        self._gate.judge(self._status, self._check_review)

    def _check_review(self, status: str) -> None:
        validate_review(status, self._review)

    async def _settled_status(self, before: PayinStatus) -> str:
        await workflow.wait_condition(lambda: self._status != before)
        return self._status.value

    async def _final_status(self) -> str:
        # An accepted confirm or cancel always ends the order (possibly a phase later).
        await workflow.wait_condition(lambda: self._status in p.TERMINAL_STATUSES)
        return self._status.value
