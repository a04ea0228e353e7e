"""The bare baseline: a workflow of the pay-in's exact shape with no database, S3 or HTTP.

Same Temporal work as PayinWorkflow: search attributes on start and on each transition,
update-with-start (instructions) → match activity → "paid" update raced against a deadline
timer → transition activity → "confirm" update raced against a deadline timer → transition
(settle) activity → a callback child workflow (prepare, deliver, finish activities) left to
run on its own. Only the activity bodies are empty. Standard library and temporalio only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.workflow import ParentClosePolicy

from contracts.search_attributes import MERCHANT_ID, ORDER_STATUS, STORE_ID, TRADER_ID

DEADLINE = timedelta(minutes=15)


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


async def _step(order_id: str, step: str) -> None:
    await workflow.execute_activity(
        bare_step, BareStep(order_id, step), start_to_close_timeout=timedelta(seconds=10)
    )


def publish(status: str, trader: bool) -> None:
    """The order's search attributes, as the platform's workflows upsert them."""
    updates = [
        ORDER_STATUS.value_set(status),
        MERCHANT_ID.value_set("bench-merchant"),
        STORE_ID.value_set("bench-store"),
    ]
    if trader:
        updates.append(TRADER_ID.value_set("bench-trader"))
    workflow.upsert_search_attributes(updates)


@workflow.defn
class BareCallbackWorkflow:
    @workflow.run
    async def run(self, inp: BareInput) -> None:
        for step in ("prepare_callback", "deliver_callback", "finish_callback"):
            await _step(inp.order_id, step)


@workflow.defn
class BarePayinWorkflow:
    def __init__(self) -> None:
        self._status = "created"
        self._paid = False
        self._confirmed = False

    @workflow.run
    async def run(self, inp: BareInput) -> str:
        self._publish()
        await _step(inp.order_id, "match")
        self._status = "awaiting_payment"
        self._publish(trader=True)
        await workflow.wait_condition(lambda: self._paid, timeout=DEADLINE)
        await _step(inp.order_id, "transition_payment_claimed")
        self._status = "payment_claimed"
        self._publish()
        await workflow.wait_condition(lambda: self._confirmed, timeout=DEADLINE)
        await _step(inp.order_id, "transition_completed")
        self._status = "completed"
        self._publish()
        await workflow.start_child_workflow(
            BareCallbackWorkflow.run,
            inp,
            id=f"bare-callback-{inp.order_id}",
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    def _publish(self, trader: bool = False) -> None:
        publish(self._status, trader)

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


@workflow.defn
class FloorPayinWorkflow:
    """The floor: the least Temporal work any pay-in needs. Update-with-start that answers at
    once, two updates (paid, confirm), completion; no activities, timers, search attributes
    or children."""

    def __init__(self) -> None:
        self._status = "awaiting_payment"

    @workflow.run
    async def run(self, inp: BareInput) -> str:
        await workflow.wait_condition(lambda: self._status == "completed")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    @workflow.update
    async def instructions(self, inp: BareInput) -> str:
        return self._status

    @workflow.update
    async def mark_paid(self, inp: BareInput) -> str:
        self._status = "payment_claimed"
        return self._status

    @workflow.update
    async def confirm(self, inp: BareInput) -> str:
        self._status = "completed"
        return self._status
