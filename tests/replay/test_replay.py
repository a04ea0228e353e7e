"""Committed workflow histories replay against today's workflow code.

A change to a workflow that would break runs already in flight (non-determinism) fails here;
such a change needs `workflow.patched(...)`. `RECORD_HISTORIES=1 pytest tests/replay` records
fresh histories from real runs (do that only when the old ones no longer matter).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from core.context import ServiceContext
from tests.connect.helpers import connect_user, onboard
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from worker import WORKFLOW_RUNNER, WORKFLOWS

HISTORIES = Path(__file__).parent / "histories"
RECORDING = os.environ.get("RECORD_HISTORIES") == "1"


def _committed() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


@pytest.mark.skipif(RECORDING, reason="recording new histories")
@pytest.mark.parametrize("path", _committed(), ids=lambda p: p.stem)
async def test_committed_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=WORKFLOW_RUNNER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.skipif(RECORDING, reason="recording new histories")
def test_histories_are_committed() -> None:
    kinds = {p.stem.split("-")[0] for p in _committed()}
    assert {"payin", "onboarding", "sync"} <= kinds


async def _save(client: Client, workflow_id: str, name: str) -> None:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    text = json.dumps(json.loads(history.to_json()), indent=1)
    await asyncio.to_thread((HISTORIES / f"{name}.json").write_text, text + "\n")


@pytest.mark.skipif(not RECORDING, reason="set RECORD_HISTORIES=1 to record")
async def test_record_histories(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store.headers)
    done = await api.post(f"/api/trader/orders/{order['id']}/confirm", headers=trader.headers)
    assert done.json()["status"] == "completed"
    await _save(temporal_client, f"payin-{order['id']}", "payin-completed")

    user = await connect_user(api, ctx, slot=10)
    await onboard(temporal_client, ctx, user.user_id, ["vbank"])
    async for execution in temporal_client.list_workflows(
        f"WorkflowType = 'OnboardingWorkflow' AND ConnectUserId = '{user.user_id}'"
    ):
        await _save(temporal_client, execution.id, "onboarding-vbank")
    await _save(temporal_client, f"sync-{user.user_id}-vbank", "sync-vbank")
