"""The bare baseline for pay-outs: a workflow of PayoutWorkflow's exact shape with no
database, S3 or HTTP.

Same Temporal work: update-with-start (instructions) → hold activity → "take" update whose
handler runs the transition activity → "paid" update raced against the pay deadline →
transition activity → completion (review window 0) with the settle activity → a callback
child workflow left to run on its own; search attributes on start and each transition.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

from bench.bare_payin import BareCallbackWorkflow, BareInput, _step, publish

DEADLINE = timedelta(minutes=15)


@workflow.defn
class BarePayoutWorkflow:
    def __init__(self) -> None:
        self._status = "new"
        self._taken = False
        self._paid = False

    @workflow.run
    async def run(self, inp: BareInput) -> str:
        self._publish()
        await _step(inp.order_id, "hold")
        self._status = "created"
        self._publish()
        await workflow.wait_condition(lambda: self._status != "created", timeout=DEADLINE)
        await workflow.wait_condition(lambda: self._paid, timeout=DEADLINE)
        await _step(inp.order_id, "transition_paid")
        self._status = "paid"
        self._publish()
        await _step(inp.order_id, "transition_completed")
        self._status = "completed"
        self._publish()
        await workflow.start_child_workflow(
            BareCallbackWorkflow.run,
            inp,
            id=f"bare-payout-callback-{inp.order_id}",
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    def _publish(self, trader: bool = False) -> None:
        publish(self._status, trader)

    @workflow.update
    async def instructions(self, inp: BareInput) -> str:
        await workflow.wait_condition(lambda: self._status != "new")
        return self._status

    @workflow.update
    async def take(self, inp: BareInput) -> str:
        await _step(inp.order_id, "transition_assigned")
        self._status = "assigned"
        self._publish(trader=True)
        return self._status

    @workflow.update
    async def mark_paid(self, inp: BareInput) -> str:
        self._paid = True
        await workflow.wait_condition(lambda: self._status not in ("created", "assigned"))
        return self._status
