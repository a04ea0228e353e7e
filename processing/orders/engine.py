"""Starting an order's workflow from a create request, bounded: update-with-start (the
workflow starts, or is found, and answers the first update) within `update_wait_seconds`.

Past the bound the create answers 503 with Retry-After: the order row is committed and a
retry with the same Idempotency-Key finds it (the workflow id makes the start idempotent).
If nobody retries, the orphan reconciler fails it as `not_started`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import UpdateRef, WaitPolicy
from temporalio.api.workflowservice.v1 import PollWorkflowExecutionUpdateRequest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from contracts.processing import InstructionsRequest, order_workflow_id
from core.errors import Conflict, Unavailable
from models.orders import Order
from processing.errors import StillRunning

FIRST_UPDATE_ID = "instructions"
T = TypeVar("T")


async def start_bounded(
    client: Client,
    update: Any,
    start: WithStartWorkflowOperation[Any, Any],
    *,
    order: Order,
    wait_s: float,
    refused: Conflict,
) -> None:
    """Start the order's workflow and send its first update (`instructions`), bounded."""
    arg = InstructionsRequest(str(order.id))
    workflow_id = order_workflow_id(order.kind, str(order.id))
    # One id for the first update: a create retried while it is still in flight joins it
    # (and one already answered is answered again) instead of piling up.
    call = client.execute_update_with_start_workflow(
        update, arg, id=FIRST_UPDATE_ID, start_workflow_operation=start
    )
    try:
        await bounded(client, workflow_id, wait_s, call, FIRST_UPDATE_ID)
    except WorkflowUpdateFailedError as exc:
        raise refused from exc
    except (EngineDown, RPCError) as exc:
        raise engine_unavailable("the order is saved: retry with the same Idempotency-Key") from exc
    except StillRunning as exc:
        # The engine has the workflow; it is slow (no worker free, a database blip).
        raise Unavailable(
            "The order is saved and its workflow has not answered yet; retry with the same "
            "Idempotency-Key",
            code="order_not_ready",
        ) from exc


TEMPORAL_UNAVAILABLE = "temporal_unavailable"


def engine_unavailable(advice: str) -> Unavailable:
    """The one answer (503 `temporal_unavailable`, with Retry-After) whenever the workflow
    engine cannot be reached, for creates and actions alike."""
    return Unavailable(f"The workflow engine is unavailable; {advice}", code=TEMPORAL_UNAVAILABLE)


class EngineDown(Exception):
    """The workflow engine did not answer at all: what was sent never reached it."""


async def bounded(
    client: Client, workflow_id: str, wait_s: float | None, call: Awaitable[T], update_id: str
) -> T:
    """`call` (update `update_id` of the workflow) within `wait_s`. Past it: StillRunning
    when the engine holds that update (it applies it when a worker takes it), EngineDown
    when the engine does not answer or never received the update (send it again).

    An engine that answers is not proof the update reached it: after a restart the client's
    connection may still be re-established while the update's RPC waits to be sent, and the
    bound cancels it. Only the engine's own answer about the update id says it is held."""
    try:
        async with asyncio.timeout(wait_s):
            return await call
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        # (The SDK turns the bound's cancellation into its own error.)
        if not await update_held(client, workflow_id, update_id):
            raise EngineDown(workflow_id) from exc
        raise StillRunning(workflow_id, update_id) from exc


class UpdateState(StrEnum):
    applied = "applied"  # the workflow has decided it (done or refused)
    held = "held"  # admitted or accepted: a worker will decide it
    missing = "missing"  # the engine does not know it (never received, or lost)
    unknown = "unknown"  # the engine did not answer


async def update_state(client: Client, workflow_id: str, update_id: str) -> UpdateState:
    """What the engine knows of the update `update_id` of the workflow."""
    stage = UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
    request = PollWorkflowExecutionUpdateRequest(
        namespace=client.namespace,
        update_ref=UpdateRef(
            workflow_execution=WorkflowExecution(workflow_id=workflow_id), update_id=update_id
        ),
        identity=client.identity,
        wait_policy=WaitPolicy(lifecycle_stage=stage),
    )
    service = client.workflow_service
    try:
        async with asyncio.timeout(3):
            answer = await service.poll_workflow_execution_update(
                request, retry=False, timeout=timedelta(seconds=2)
            )
    except RPCError as err:
        return UpdateState.missing if err.status == RPCStatusCode.NOT_FOUND else UpdateState.unknown
    except TimeoutError:
        return UpdateState.unknown
    return UpdateState.applied if answer.HasField("outcome") else UpdateState.held


async def update_held(client: Client, workflow_id: str, update_id: str) -> bool:
    """Whether the engine holds the update (admitted, accepted or applied)."""
    state = await update_state(client, workflow_id, update_id)
    return state in (UpdateState.applied, UpdateState.held)


async def workflow_exists(
    client: Client, workflow_id: str, rpc_timeout: timedelta | None = None
) -> bool:
    """Whether the engine knows the workflow (any other engine error is raised)."""
    try:
        await client.get_workflow_handle(workflow_id).describe(rpc_timeout=rpc_timeout)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
