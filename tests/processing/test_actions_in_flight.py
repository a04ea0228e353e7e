"""An action sent while the order's previous transition is still landing (its database step
committed, so a client already sees the new status, but the workflow has not caught up) waits
for it and is then decided — not refused on the status the workflow was leaving.

The workflow's database step is the real one, held back before it reports (a same-named
activity around it): the only way to open that window on purpose."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities import build_activities
from contracts import processing as p
from core.context import ServiceContext
from tests.conftest import MakeApi
from tests.processing.conftest import new_currency
from tests.processing.payout_kit import (
    PNG,
    create_payout,
    fund_store,
    payout_store,
    payout_trader,
    wait_payout,
)
from worker import WORKFLOW_RUNNER, WORKFLOWS


@dataclass
class Gate:
    """Holds back the report of transitions into `status` until opened."""

    status: str = ""
    landed: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)


@dataclass
class Rig:
    api: httpx.AsyncClient
    gate: Gate
    client: Client


@pytest.fixture
async def rig(
    ctx: ServiceContext, temporal_client: Client, make_api: MakeApi
) -> AsyncIterator[Rig]:
    queue = f"in-flight-{uuid.uuid4().hex[:8]}"
    gate = Gate()
    activities = build_activities(ctx)
    real: Callable[..., Any] = next(
        a for a in activities if a.__name__ == p.ProcessingActivity.record_transition
    )

    @activity.defn(name=p.ProcessingActivity.record_transition)
    def record_transition(inp: p.TransitionInput) -> p.TransitionResult:
        result: p.TransitionResult = real(inp)  # committed: the database shows it
        if inp.to_status == gate.status:
            gate.landed.set()
            gate.opened.wait(60)
        return result

    others = [a for a in activities if a is not real]
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with Worker(
            temporal_client,
            task_queue=queue,
            workflows=WORKFLOWS,
            workflow_runner=WORKFLOW_RUNNER,
            activities=[*others, record_transition],
            activity_executor=executor,
        ):
            api = await make_api(temporal_task_queue=queue)
            try:
                yield Rig(api, gate, temporal_client)
            finally:
                gate.opened.set()


async def accepted(client: Client, workflow_id: str, update: str) -> bool:
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if request.input.name == update:
                return True
    return False


async def decided_after_landing(
    rig: Rig, workflow_id: str, update: str, action: asyncio.Task[httpx.Response]
) -> httpx.Response:
    """Open the gate once the action is with the workflow (accepted, waiting), or at once if
    it was answered already (refused on the status being left: the defect)."""
    while not await accepted(rig.client, workflow_id, update):
        if action.done():
            break
        await asyncio.sleep(0.05)
    rig.gate.opened.set()
    return await action


async def test_paid_sent_while_the_take_lands_is_applied(
    rig: Rig, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    api = rig.api
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, payout_review_seconds=600)
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)
    payout = await create_payout(api, store)
    url = f"/api/trader/payouts/{payout['id']}"
    rig.gate.status = "assigned"
    take = asyncio.create_task(api.post(f"{url}/take", headers=trader.headers))
    await asyncio.to_thread(rig.gate.landed.wait, 30)
    # The database says the pay-out is the trader's (so does GET); they pay and say so.
    mine = await api.get(url, headers=trader.headers)
    assert mine.json()["status"] == "assigned"
    proof = {"proof": ("p.png", PNG, "image/png")}
    paid = asyncio.create_task(api.post(f"{url}/paid", files=proof, headers=trader.headers))
    answer = await decided_after_landing(rig, f"payout-{payout['id']}", "mark_paid", paid)
    assert (answer.status_code, answer.json().get("status")) == (200, "paid"), answer.text
    assert (await take).json()["status"] in ("assigned", "paid")


async def test_a_resolve_sent_while_the_dispute_lands_is_applied(
    rig: Rig, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    api = rig.api
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, payout_review_seconds=600)
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)
    payout = await create_payout(api, store)
    order_id = payout["id"]
    assert (
        await api.post(f"/api/trader/payouts/{order_id}/take", headers=trader.headers)
    ).status_code == 200
    rig.gate.status = "disputed"
    dispute = asyncio.create_task(
        api.post(
            f"/api/gateway/payouts/{order_id}/dispute",
            data={"reason": "the customer got nothing"},
            headers=store.headers,
        )
    )
    await asyncio.to_thread(rig.gate.landed.wait, 30)
    # The queue shows it disputed; an admin who knows the money went out decides at once.
    resolve = asyncio.create_task(
        api.post(
            f"/api/admin/orders/{order_id}/resolve",
            json={"outcome": "completed", "reason": "the bank confirms the transfer"},
            headers=admin_headers,
        )
    )
    answer = await decided_after_landing(rig, f"payout-{order_id}", "confirm", resolve)
    assert (answer.status_code, answer.json().get("status")) == (200, "completed"), answer.text
    assert (await dispute).status_code == 200
    await wait_payout(api, store, order_id, "completed")
