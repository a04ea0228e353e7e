"""WithdrawalWorkflow: requested → approved → paid → completed, or rejected / cancelled.

Id `withdrawal-{withdrawal_id}`. The API placed the hold (amount + fee) before starting it.
Staff `approve` (above the threshold two different staff members: the first approval is
recorded and the request stays `requested`; the same person again is `same_approver`),
then `mark_paid` with the transaction hash or a stored proof; completion posts at once:
owner −(amount + fee), platform payout +amount, platform profit +fee. The owner may
`cancel` while it is `requested`; staff may `reject` until it is paid. Both release the
hold. A request not paid within the SLA is escalated once (it keeps waiting). A store's
withdrawal raises `withdrawal.*` callbacks to its merchant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

from contracts import funds as f
from contracts.funds import FundsKind, WithdrawalStatus
from workflows.funds import (
    check_approver,
    invalid,
    new_event_id,
    publish,
    record,
    start_callback,
)
from workflows.orders import DB_RETRY, wait_until

EVENT_TYPES = {
    WithdrawalStatus.approved: "withdrawal.approved",
    WithdrawalStatus.paid: "withdrawal.paid",
    WithdrawalStatus.completed: "withdrawal.completed",
    WithdrawalStatus.rejected: "withdrawal.rejected",
    WithdrawalStatus.cancelled: "withdrawal.cancelled",
}


@workflow.defn
class WithdrawalWorkflow:
    # The input is known before any update: an action sent right after the start may be
    # validated in the run's first task, before `run` has begun.
    @workflow.init
    def __init__(self, inp: f.WithdrawalInput) -> None:
        self._input = inp
        self._status = WithdrawalStatus.requested
        self._approvers: list[str] = []
        self._approve: f.StaffDecision | None = None
        self._reject: f.StaffDecision | None = None
        self._cancel: f.OwnerCancel | None = None
        self._paid: f.PaidRequest | None = None
        self._escalated = False

    @workflow.run
    async def run(self, inp: f.WithdrawalInput) -> str:
        publish(FundsKind.withdrawal, self._status)
        while self._status == WithdrawalStatus.requested:
            await self._wait(lambda: bool(self._approve or self._reject or self._cancel))
            if self._cancel is not None:
                owner = (self._cancel.actor_type, self._cancel.actor_id)
                await self._move(WithdrawalStatus.cancelled, owner)
            elif self._reject is not None:
                await self._move(WithdrawalStatus.rejected, self._staff(self._reject))
            else:
                assert self._approve is not None
                approve = self._approve
                if inp.needs_two and len(self._approvers) < 2:
                    # The first of two: recorded, still `requested` until a second one.
                    await self._move(WithdrawalStatus.requested, self._staff(approve))
                else:
                    await self._move(WithdrawalStatus.approved, self._staff(approve))
        if self._status == WithdrawalStatus.approved:
            await self._wait(lambda: bool(self._paid or self._reject))
            if self._reject is not None:
                await self._move(WithdrawalStatus.rejected, self._staff(self._reject))
            else:
                assert self._paid is not None
                paid = self._paid
                actor = ("staff", paid.actor_id)
                await self._move(
                    WithdrawalStatus.paid, actor, tx_hash=paid.tx_hash, proof_key=paid.proof_key
                )
                await self._move(WithdrawalStatus.completed, ("system", None))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status.value

    async def _wait(self, decided: Callable[[], bool]) -> None:
        """Wait for a decision; past the SLA (from the request), escalate once and go on."""
        if not self._escalated:
            started = workflow.info().start_time
            left = started + timedelta(seconds=self._input.sla_s) - workflow.now()
            if await wait_until(decided, max(left, timedelta(0))):
                return
            self._escalated = True
            await workflow.execute_activity(
                f.FundsActivity.escalate_withdrawal,
                f.EscalateWithdrawal(self._input.withdrawal_id, self._input.sla_s),
                result_type=bool,
                start_to_close_timeout=timedelta(seconds=15),
                retry_policy=DB_RETRY,
            )
        await workflow.wait_condition(decided)

    @staticmethod
    def _staff(decision: f.StaffDecision) -> tuple[str, str | None]:
        return ("staff", decision.actor_id)

    async def _move(
        self, to: WithdrawalStatus, actor: tuple[str, str | None], **extra: str | None
    ) -> None:
        inp = self._input
        event_type = EVENT_TYPES.get(to) if inp.store_id else None
        event_id = new_event_id() if event_type else None
        result = await record(
            f.FundsActivity.record_withdrawal,
            inp.withdrawal_id,
            self._status.value,
            to.value,
            actor,
            event_id=event_id,
            event_type=event_type,
            **extra,
        )
        workflow.logger.info("withdrawal %s: %s → %s", inp.withdrawal_id, self._status, to)
        self._status = to
        # The approval is applied: the next action is judged on the new status at once, not
        # after the merchant's callback has been started.
        self._approve = None
        publish(FundsKind.withdrawal, to)
        if event_id and event_type and result.event_has_url:
            await start_callback(event_id, inp.withdrawal_id, event_type, inp.callback_delays_s)

    # -- updates -------------------------------------------------------------------------
    @workflow.update(name=f.FundsUpdate.approve)
    async def approve(self, req: f.StaffDecision) -> str:
        # Again here: validators of updates delivered together all ran before any handler.
        self._validate_approve(req)
        self._approvers.append(req.actor_id)
        self._approve = req
        await workflow.wait_condition(lambda: self._approve is not req)
        return self._status.value

    @approve.validator
    def _validate_approve(self, req: f.StaffDecision) -> None:
        check_approver(req.actor_id, self._approvers)
        self._check(WithdrawalStatus.requested, "approved")

    @workflow.update(name=f.FundsUpdate.reject)
    async def reject(self, req: f.StaffDecision) -> str:
        self._validate_reject(req)
        self._reject = req
        await workflow.wait_condition(lambda: self._status == WithdrawalStatus.rejected)
        return self._status.value

    @reject.validator
    def _validate_reject(self, req: f.StaffDecision) -> None:
        if self._status == WithdrawalStatus.approved and not self._paid and not self._reject:
            return
        self._check(WithdrawalStatus.requested, "rejected")

    @workflow.update(name=f.FundsUpdate.mark_paid)
    async def mark_paid(self, req: f.PaidRequest) -> str:
        self._validate_paid(req)
        self._paid = req
        await workflow.wait_condition(lambda: self._status == WithdrawalStatus.completed)
        return self._status.value

    @mark_paid.validator
    def _validate_paid(self, req: f.PaidRequest) -> None:
        self._check(WithdrawalStatus.approved, "paid")

    @workflow.update(name=f.FundsUpdate.cancel)
    async def cancel(self, req: f.OwnerCancel) -> str:
        self._validate_cancel(req)
        self._cancel = req
        await workflow.wait_condition(lambda: self._status == WithdrawalStatus.cancelled)
        return self._status.value

    @cancel.validator
    def _validate_cancel(self, req: f.OwnerCancel) -> None:
        self._check(WithdrawalStatus.requested, "cancelled")

    def _check(self, status: WithdrawalStatus, verb: str) -> None:
        # A decision accepted and not yet applied counts as taken.
        pending = self._approve or self._reject or self._cancel or self._paid
        if self._status != status or pending:
            raise invalid(f"the withdrawal cannot be {verb} while it is {self._status}")
