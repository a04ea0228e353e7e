"""The bare baseline for withdrawals: a workflow of WithdrawalWorkflow's exact shape with no
database, S3 or HTTP.

Same Temporal work: a plain start with search attributes → "approve" update whose decision
runs a local transition step → "paid" update → two local transition steps (paid, completed)
→ a callback child workflow per event (approved, paid, completed) left to run on its own;
search attributes upserted on every transition. Only the step bodies are empty.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

from bench.bare_payin import BareCallbackWorkflow, BareInput, BareStep, bare_step
from contracts.search_attributes import FUNDS_KIND, FUNDS_STATUS

SLA = timedelta(hours=4)


@workflow.defn
class BareWithdrawalWorkflow:
    def __init__(self) -> None:
        self._status = "requested"
        self._approved = False
        self._paid = False

    @workflow.run
    async def run(self, inp: BareInput) -> str:
        self._publish()
        await workflow.wait_condition(lambda: self._approved, timeout=SLA)
        await self._move(inp, "approved")
        await workflow.wait_condition(lambda: self._paid, timeout=SLA)
        await self._move(inp, "paid")
        await self._move(inp, "completed")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    async def _move(self, inp: BareInput, to: str) -> None:
        await workflow.execute_local_activity(
            bare_step, BareStep(inp.order_id, to), start_to_close_timeout=timedelta(seconds=10)
        )
        self._status = to
        self._publish()
        await workflow.start_child_workflow(
            BareCallbackWorkflow.run,
            inp,
            id=f"bare-withdrawal-callback-{inp.order_id}-{to}",
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    def _publish(self) -> None:
        workflow.upsert_search_attributes(
            [FUNDS_KIND.value_set("withdrawal"), FUNDS_STATUS.value_set(self._status)]
        )

    @workflow.update
    async def approve(self, inp: BareInput) -> str:
        self._approved = True
        await workflow.wait_condition(lambda: self._status != "requested")
        return self._status

    @workflow.update
    async def mark_paid(self, inp: BareInput) -> str:
        self._paid = True
        await workflow.wait_condition(lambda: self._status == "completed")
        return self._status
