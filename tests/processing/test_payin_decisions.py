"""PayinWorkflow's decisions alone: who may do what in which status, and the deadlines.

The workflow runs on the real Temporal dev server, on its own task queue, with its
activities replaced by same-named stand-ins: these tests are about what the workflow decides
(status × actor, timers), not about the database (the end-to-end tests cover that).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from contracts import processing as p
from contracts.search_attributes import ORDER_STATUS
from worker import WORKFLOW_RUNNER
from workflows.callback import CallbackWorkflow
from workflows.payin import PayinWorkflow

LONG = timedelta(hours=1)
TERMINAL = {"completed", "cancelled", "expired", "failed"}


@dataclass
class Script:
    """What the stand-in activities answer for one order, and what they were asked."""

    matched: bool = True
    payment_window: timedelta = LONG
    trader_window: timedelta = LONG
    dispute_sla_s: int = 3600
    transitions: list[p.TransitionInput] = field(default_factory=list)
    escalations: int = 0


SCRIPTS: dict[str, Script] = {}


@activity.defn(name=p.ProcessingActivity.match_requisite)
async def match_requisite(inp: p.MatchInput) -> p.MatchOutcome:
    script = SCRIPTS[inp.order_id]
    if not script.matched:
        return p.MatchOutcome(inp.order_id, False, "failed", failure_reason="no_requisite")
    expires = datetime.now(UTC) + script.payment_window
    return p.MatchOutcome(
        inp.order_id, True, "awaiting_payment", None, "req-1", "trader-1", 150_000, expires
    )


@activity.defn(name=p.ProcessingActivity.record_transition)
async def record_transition(inp: p.TransitionInput) -> p.TransitionResult:
    script = SCRIPTS[inp.order_id]
    script.transitions.append(inp)
    deadline = datetime.now(UTC) + script.trader_window
    return p.TransitionResult(inp.order_id, inp.to_status, deadline)


@activity.defn(name=p.ProcessingActivity.escalate_dispute)
async def escalate_dispute(inp: p.EscalateInput) -> bool:
    SCRIPTS[inp.order_id].escalations += 1
    return True


@activity.defn(name=p.ProcessingActivity.prepare_callback)
async def prepare_callback(inp: p.CallbackInput) -> p.CallbackPrepared:
    return p.CallbackPrepared(inp.event_id, has_url=False)


@activity.defn(name=p.ProcessingActivity.finish_callback)
async def finish_callback(inp: p.CallbackFinished) -> None:
    return None


@pytest.fixture(scope="module")
async def queue(temporal_client: Client) -> AsyncIterator[str]:
    name = f"payin-decisions-{uuid.uuid4().hex[:8]}"
    stand_ins: list[Callable[..., Any]] = [
        match_requisite,
        record_transition,
        escalate_dispute,
        prepare_callback,
        finish_callback,
    ]
    async with Worker(
        temporal_client,
        task_queue=name,
        workflows=[PayinWorkflow, CallbackWorkflow],
        activities=stand_ins,
        workflow_runner=WORKFLOW_RUNNER,
    ):
        yield name


async def start(client: Client, queue: str, script: Script) -> tuple[str, WorkflowHandle]:
    order_id = uuid.uuid4().hex
    SCRIPTS[order_id] = script
    # As the API starts it: update-with-start (a lean run may finish in its first task).
    start = WithStartWorkflowOperation(
        PayinWorkflow.run,
        p.PayinInput(order_id, "store-1", "merchant-1", [1], dispute_sla_s=script.dispute_sla_s),
        id=p.payin_workflow_id(order_id),
        task_queue=queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    await client.execute_update_with_start_workflow(
        PayinWorkflow.instructions,
        p.InstructionsRequest(order_id),
        start_workflow_operation=start,
    )
    return order_id, await start.workflow_handle()


async def reach(
    client: Client, queue: str, status: str, dispute_sla_s: int = 3600
) -> tuple[str, WorkflowHandle]:
    """A workflow waiting in `status` (awaiting_payment, payment_claimed or disputed)."""
    window = timedelta(milliseconds=300) if status == "disputed" else LONG
    script = Script(trader_window=window, dispute_sla_s=dispute_sla_s)
    order_id, handle = await start(client, queue, script)
    if status in ("payment_claimed", "disputed"):
        await handle.execute_update(p.PayinUpdate.mark_paid, p.ClaimRequest(None), result_type=str)
    if status == "disputed":
        # The stand-in records the move before the workflow takes it in: wait for the status
        # the workflow itself publishes.
        await wait_for_published(handle, "disputed")
    return order_id, handle


async def wait_for_published(handle: WorkflowHandle, status: str, limit_s: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        described = await handle.describe()
        if described.typed_search_attributes.get(ORDER_STATUS) == status:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"workflow never published {status}")
        await asyncio.sleep(0.05)


# The rules, written from the processing spec (not copied from the workflow's tables).
MAY_CONFIRM = {
    ("trader", "awaiting_payment"),
    ("trader", "payment_claimed"),
    ("admin", "awaiting_payment"),
    ("admin", "payment_claimed"),
    ("admin", "disputed"),
}
MAY_CANCEL = {
    ("merchant", "awaiting_payment"),
    ("trader", "awaiting_payment"),
    ("trader", "payment_claimed"),
    ("admin", "awaiting_payment"),
    ("admin", "payment_claimed"),
    ("admin", "disputed"),
}
ACTORS = ("merchant", "customer", "trader", "admin")
STATUSES = ("awaiting_payment", "payment_claimed", "disputed")


@pytest.mark.parametrize("action", ["confirm", "cancel"])
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("actor", ACTORS)
async def test_actor_by_status(
    temporal_client: Client, queue: str, actor: str, status: str, action: str
) -> None:
    order_id, handle = await reach(temporal_client, queue, status)
    allowed = (actor, status) in (MAY_CONFIRM if action == "confirm" else MAY_CANCEL)
    request = p.ActorRequest(actor, f"{actor}-1", "customer never paid")
    update = p.PayinUpdate.confirm if action == "confirm" else p.PayinUpdate.cancel
    if not allowed:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(update, request, result_type=str)
        assert "cannot" in str(refused.value.cause)
        await handle.terminate("test over")
        return
    final = await handle.execute_update(update, request, result_type=str)
    expected, hold = ("completed", "post") if action == "confirm" else ("cancelled", "void")
    assert final == expected
    last = SCRIPTS[order_id].transitions[-1]
    assert (last.to_status, last.actor_type, last.hold_action) == (expected, actor, hold)
    assert (await handle.result()).status == expected


async def test_a_trader_cancels_only_with_a_reason(temporal_client: Client, queue: str) -> None:
    _, handle = await reach(temporal_client, queue, "awaiting_payment")
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            p.PayinUpdate.cancel, p.ActorRequest("trader", "t-1", None), result_type=str
        )
    await handle.terminate("test over")


async def test_no_claim_before_the_payment_deadline_expires_and_voids_the_hold(
    temporal_client: Client, queue: str
) -> None:
    order_id, handle = await start(
        temporal_client, queue, Script(payment_window=timedelta(milliseconds=300))
    )
    assert (await handle.result()).status == "expired"
    (move,) = SCRIPTS[order_id].transitions
    assert (move.to_status, move.actor_type, move.reason, move.hold_action) == (
        "expired",
        "system",
        "payment_deadline",
        "void",
    )
    with pytest.raises(Exception):  # noqa: B017 - the workflow is closed: any refusal will do
        await handle.execute_update(p.PayinUpdate.mark_paid, p.ClaimRequest(None), result_type=str)


async def test_a_dispute_has_no_deadline_and_waits_for_an_admin(
    temporal_client: Client, queue: str
) -> None:
    # Its only timer is the SLA's (1 s here): once it has fired and escalated the dispute,
    # every deadline the workflow keeps has passed, and still nothing was decided.
    order_id, handle = await reach(temporal_client, queue, "disputed", dispute_sla_s=1)
    disputed = SCRIPTS[order_id].transitions[-1]
    assert (disputed.actor_type, disputed.reason, disputed.hold_action) == (
        "system",
        "trader_deadline",
        "keep",
    )
    for _ in range(200):
        if SCRIPTS[order_id].escalations:
            break
        await asyncio.sleep(0.05)
    assert SCRIPTS[order_id].escalations == 1
    assert [t.to_status for t in SCRIPTS[order_id].transitions] == ["payment_claimed", "disputed"]
    description = await handle.describe()
    assert description.status is not None and description.status.name == "RUNNING"
    await handle.terminate("test over")


async def test_a_second_claim_is_refused(temporal_client: Client, queue: str) -> None:
    _, handle = await reach(temporal_client, queue, "payment_claimed")
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(p.PayinUpdate.mark_paid, p.ClaimRequest(None), result_type=str)
    await handle.terminate("test over")


async def test_an_unmatched_order_ends_failed_without_transitions(
    temporal_client: Client, queue: str
) -> None:
    order_id, handle = await start(temporal_client, queue, Script(matched=False))
    result = await handle.result()
    assert (result.status, result.failure_reason) == ("failed", "no_requisite")
    assert SCRIPTS[order_id].transitions == []
