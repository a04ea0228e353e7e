"""An action past its wait bound answers 202 only when the engine holds its update.

The clean-clone CI run caught an action lost after a Temporal restart: the API answered
202 because the engine answered a describe, while the update's own RPC had been waiting
for the client's connection and was cancelled by the bound, never sent. The order never
moved. The check is now the engine's answer about the update id itself."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.client import Client

from processing.errors import StillRunning
from processing.orders.engine import EngineDown, bounded


async def idle_workflow(client: Client) -> str:
    """A workflow on a queue no worker polls: the engine holds what is sent to it."""
    workflow_id = f"bound-{uuid.uuid4().hex}"
    await client.start_workflow(
        "PayinWorkflow", id=workflow_id, task_queue=f"nobody-{uuid.uuid4().hex}"
    )
    return workflow_id


async def test_an_update_the_engine_never_received_is_not_reported_as_held(
    temporal_client: Client,
) -> None:
    workflow_id = await idle_workflow(temporal_client)
    never_sent = asyncio.Event().wait()  # the update's RPC, still waiting for a connection
    with pytest.raises(EngineDown):
        await bounded(temporal_client, workflow_id, 0.5, never_sent, "confirm:never-sent")


async def test_an_update_the_engine_holds_is_still_running(temporal_client: Client) -> None:
    workflow_id = await idle_workflow(temporal_client)
    handle = temporal_client.get_workflow_handle(workflow_id)
    call = handle.execute_update("confirm", None, id="confirm:held", result_type=str)
    with pytest.raises(StillRunning):
        await bounded(temporal_client, workflow_id, 0.5, call, "confirm:held")
    await handle.terminate("test over")


async def test_an_update_for_a_workflow_the_engine_does_not_know_is_not_held(
    temporal_client: Client,
) -> None:
    with pytest.raises(EngineDown):
        never_sent = asyncio.Event().wait()
        await bounded(temporal_client, f"absent-{uuid.uuid4().hex}", 0.5, never_sent, "x")
