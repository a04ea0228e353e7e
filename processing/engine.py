"""Starting an order's workflow from a create request, bounded: update-with-start (the
workflow starts, or is found, and answers the first update) within `update_wait_seconds`.

Past the bound the create answers 503 with Retry-After: the order row is committed and a
retry with the same Idempotency-Key finds it (the workflow id makes the start idempotent).
If nobody retries, the orphan reconciler fails it as `not_started`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from core.errors import Conflict, Unavailable

FIRST_UPDATE_ID = "instructions"


async def start_bounded(
    client: Client,
    update: Any,
    arg: Any,
    start: WithStartWorkflowOperation[Any, Any],
    wait_s: float,
    refused: Conflict,
    workflow_id: str,
) -> None:
    try:
        async with asyncio.timeout(wait_s):
            # One id for the first update: a create retried while it is still in flight
            # joins it (and one already answered is answered again) instead of piling up.
            await client.execute_update_with_start_workflow(
                update, arg, id=FIRST_UPDATE_ID, start_workflow_operation=start
            )
    except WorkflowUpdateFailedError as exc:
        raise refused from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as exc:
        if isinstance(exc, RPCError) or not await engine_answers(client, workflow_id):
            raise Unavailable(
                "The workflow engine is unavailable; the order is saved: retry with the same "
                "Idempotency-Key",
                code="temporal_unavailable",
            ) from exc
        # The engine has the workflow; it is slow (no worker free, a database blip).
        raise Unavailable(
            "The order is saved and its workflow has not answered yet; retry with the same "
            "Idempotency-Key",
            code="order_not_ready",
        ) from exc


async def engine_answers(client: Client, workflow_id: str) -> bool:
    """Whether the workflow engine answers at all (a workflow it does not know is an answer)."""
    try:
        async with asyncio.timeout(3):
            await client.get_workflow_handle(workflow_id).describe(rpc_timeout=timedelta(seconds=2))
    except RPCError as err:
        return err.status == RPCStatusCode.NOT_FOUND
    except TimeoutError:
        return False
    return True
