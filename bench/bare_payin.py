"""The bare baseline: a workflow of the pay-in's shape with no database, S3 or HTTP.

update-with-start (instructions) → match activity → await "paid" update → await
"confirm" update → settle activity → done. Standard library and temporalio only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow


@dataclass
class BareInput:
    order_id: str


@dataclass
class BareStep:
    order_id: str
    step: str


@activity.defn(name="bare_step")
async def bare_step(inp: BareStep) -> str:
    return f"{inp.order_id}:{inp.step}"


@workflow.defn
class BarePayinWorkflow:
    def __init__(self) -> None:
        self._status = "created"
        self._paid = False
        self._confirmed = False

    @workflow.run
    async def run(self, inp: BareInput) -> str:
        await self._step(inp, "match")
        self._status = "awaiting_payment"
        await workflow.wait_condition(lambda: self._paid)
        self._status = "payment_claimed"
        await workflow.wait_condition(lambda: self._confirmed)
        await self._step(inp, "settle")
        self._status = "completed"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    async def _step(self, inp: BareInput, step: str) -> None:
        await workflow.execute_activity(
            bare_step, BareStep(inp.order_id, step), start_to_close_timeout=timedelta(seconds=10)
        )

    @workflow.update
    async def instructions(self, inp: BareInput) -> str:
        await workflow.wait_condition(lambda: self._status != "created")
        return self._status

    @workflow.update
    async def mark_paid(self, inp: BareInput) -> str:
        self._paid = True
        await workflow.wait_condition(lambda: self._status != "awaiting_payment")
        return self._status

    @workflow.update
    async def confirm(self, inp: BareInput) -> str:
        self._confirmed = True
        await workflow.wait_condition(lambda: self._status == "completed")
        return self._status
