"""DepositWorkflow: requested → confirmed → credited, or rejected.

Id `deposit-{deposit_id}`. A staff member's `approve` confirms the request (and names them);
at or below the platform's threshold that also credits it, above it a second, different
staff member's `approve` credits it (maker-checker: the same person again is refused with
`same_approver`). `reject` ends it before it is credited. Crediting is one posting keyed by
the deposit's id, so a retried step changes nothing.
"""

from __future__ import annotations

from temporalio import workflow

from contracts import funds as f
from contracts.funds import DepositStatus, FundsKind
from workflows.funds import check_approver, invalid, publish, record

OPEN = {DepositStatus.requested, DepositStatus.confirmed}


@workflow.defn
class DepositWorkflow:
    # The input is known before any update: an approval sent right after the start may be
    # validated in the run's first task, before `run` has begun.
    @workflow.init
    def __init__(self, inp: f.DepositInput) -> None:
        self._input = inp
        self._status = DepositStatus.requested
        self._approvers: list[str] = []
        self._approve: f.StaffDecision | None = None
        self._reject: f.StaffDecision | None = None

    @workflow.run
    async def run(self, inp: f.DepositInput) -> str:
        publish(FundsKind.deposit, self._status)
        if inp.requested_by is not None:
            # An admin's own deposit above the threshold: their request is the confirmation.
            self._approvers.append(inp.requested_by)
            await self._move(DepositStatus.confirmed, inp.requested_by)
        while self._status in OPEN:
            await workflow.wait_condition(lambda: bool(self._approve or self._reject))
            if self._reject is not None:
                await self._move(DepositStatus.rejected, self._reject.actor_id, self._reject.reason)
                break
            assert self._approve is not None
            approver = self._approve.actor_id
            if self._status == DepositStatus.requested:
                await self._move(DepositStatus.confirmed, approver)
            if self._status == DepositStatus.confirmed and not (
                inp.needs_two and len(self._approvers) < 2
            ):
                await self._move(DepositStatus.credited, approver)
            self._approve = None
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status.value

    async def _move(self, to: DepositStatus, actor_id: str, reason: str | None = None) -> None:
        await record(
            f.FundsActivity.record_deposit,
            self._input.deposit_id,
            self._status.value,
            to.value,
            ("staff", actor_id),
            reason=reason,
        )
        workflow.logger.info("deposit %s: %s → %s", self._input.deposit_id, self._status, to)
        self._status = to
        publish(FundsKind.deposit, to)

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
        self._check_open("approved")

    @workflow.update(name=f.FundsUpdate.reject)
    async def reject(self, req: f.StaffDecision) -> str:
        self._check_open("rejected")
        self._reject = req
        await workflow.wait_condition(lambda: self._status not in OPEN)
        return self._status.value

    @reject.validator
    def _validate_reject(self, req: f.StaffDecision) -> None:
        self._check_open("rejected")

    def _check_open(self, verb: str) -> None:
        # A decision accepted and not yet applied counts.
        if self._status not in OPEN or self._approve or self._reject:
            raise invalid(f"the deposit cannot be {verb} while it is {self._status}")
