"""Creates while Temporal is down: 503 with Retry-After, and no orphan — a retry with the same
Idempotency-Key starts the workflow, an order nobody retried is failed `not_started` by the
reconciler (its merchant_order_id free again); a withdrawal saved with its hold is started by
the reconciler instead. The reconciler runs on a Temporal schedule every worker ensures."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta

import httpx
from sqlmodel import Session, select
from temporalio.client import Client, ScheduleActionStartWorkflow

from contracts.funds import withdrawal_workflow_id
from contracts.reconcile import RECONCILE_WORKFLOW, ReconcileInput, ReconcileResult
from core.context import ServiceContext
from models.ledger import AccountKind
from models.orders import Order
from processing.funds.sweep import start_stranded
from processing.orders.engine import workflow_exists
from processing.orders.reconcile import fail_orphans
from processing.orders.reconcile_schedule import ensure_reconcile_schedule
from tests.money.funds_kit import ledger, withdrawal_body
from tests.operations.conftest import PrivateTemporal, WorkerProcess, drill_app
from tests.operations.test_drills import assert_ledger_sound
from tests.operations.test_worker_drills import status_of
from tests.processing.conftest import (
    CallbackReceiver,
    make_store,
    make_trader,
    new_currency,
    payin_body,
    verify_signature,
)
from tests.processing.payout_kit import created


def order_id_of(ctx: ServiceContext, store_id: uuid.UUID, merchant_order_id: str) -> str:
    with Session(ctx.engine) as session:
        order = session.exec(
            select(Order).where(
                Order.store_id == store_id, Order.merchant_order_id == merchant_order_id
            )
        ).one()
    assert order.status.value == "created"
    return str(order.id)


async def test_creates_while_temporal_is_down_leave_no_orphan(
    ctx: ServiceContext,
    drill_queue: str,
    private_temporal: PrivateTemporal,
    private_worker: WorkerProcess,
    receiver: CallbackReceiver,
) -> None:
    address = private_temporal.address
    drill = {"temporal_address": address, "temporal_task_queue": drill_queue}
    settings = ctx.settings.model_copy(update=drill)
    async with drill_app(ctx, **drill) as api:
        client = await Client.connect(address)
        currency = new_currency(ctx)
        store = make_store(ctx, currency, callback_url=receiver.url)
        await make_trader(api, ctx, currency, requisites=2)
        # One pay-in through the worker first: it is polling before the engine goes.
        await created(api, "/api/gateway/payins", payin_body(currency, "1400.00"), store.headers)
        private_temporal.stop()

        retried, abandoned = payin_body(currency, "1500.00"), payin_body(currency, "1600.00")
        keys = {"retried": "key-retried", "abandoned": "key-abandoned"}
        for name, body in (("retried", retried), ("abandoned", abandoned)):
            headers = store.headers | {"Idempotency-Key": keys[name]}
            down = await api.post("/api/gateway/payins", json=body, headers=headers)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "temporal_unavailable"
            assert down.headers["Retry-After"] == "5"

        private_temporal.start()
        # The merchant retries one with the same key: the workflow starts, it is matched. Until
        # the worker has reconnected that is a 503 with Retry-After, and they retry again.
        headers = store.headers | {"Idempotency-Key": keys["retried"]}
        deadline = asyncio.get_running_loop().time() + 90
        while (
            again := await api.post("/api/gateway/payins", json=retried, headers=headers)
        ).status_code == 503:
            assert asyncio.get_running_loop().time() < deadline, again.text
            await asyncio.sleep(int(again.headers["Retry-After"]))
        assert again.status_code == 201, again.text
        assert again.json()["status"] == "awaiting_payment"

        # The reconciler fails the other one (no workflow), and leaves the live one be.
        abandoned_id = order_id_of(ctx, store.store_id, abandoned["merchant_order_id"])
        young = await fail_orphans(ctx.engine, client, ReconcileInput(3600), settings)
        assert abandoned_id not in young.failed
        result = await fail_orphans(ctx.engine, client, ReconcileInput(0), settings)
        assert abandoned_id in result.failed and again.json()["id"] not in result.failed
        assert status_of(ctx, abandoned_id) == "failed"
        assert status_of(ctx, again.json()["id"]) == "awaiting_payment"
        twice = await fail_orphans(ctx.engine, client, ReconcileInput(0), settings)
        assert abandoned_id not in twice.failed

        # A final status like any other: the merchant hears of it once, signed.
        await asyncio.to_thread(receiver.event.wait, 60)
        events = [verify_signature(store.secret, got) for got in receiver.received]
        failed = [e for e in events if e["data"]["order_id"] == abandoned_id]
        assert [e["type"] for e in failed] == ["payin.failed"], events
        assert failed[0]["data"]["failure_reason"] == "not_started"

        # Its replay says what happened; its merchant_order_id may be used again.
        headers = store.headers | {"Idempotency-Key": keys["abandoned"]}
        replay = await api.post("/api/gateway/payins", json=abandoned, headers=headers)
        assert (replay.status_code, replay.json()["error"]["code"]) == (409, "not_started")
        assert replay.json()["error"]["details"]["order_id"] == abandoned_id
        headers = store.headers | {"Idempotency-Key": "key-new"}
        fresh = await api.post("/api/gateway/payins", json=abandoned, headers=headers)
        assert fresh.status_code == 201, fresh.text
        timeline = await api.get(f"/api/gateway/payins/{abandoned_id}", headers=store.headers)
        assert timeline.json()["failure_reason"] == "not_started"
        assert_ledger_sound(ctx, currency)


async def test_every_worker_ensures_the_reconcile_schedule(
    temporal_client: Client, ctx: ServiceContext, worker: None
) -> None:
    queue = ctx.settings.temporal_task_queue
    schedule_id = await ensure_reconcile_schedule(temporal_client, queue, grace_seconds=120)
    # Ensuring again (a second worker, a restart) replaces the definition, no error.
    assert await ensure_reconcile_schedule(temporal_client, queue, grace_seconds=300) == (
        schedule_id
    )
    handle = temporal_client.get_schedule_handle(schedule_id)
    try:
        described = await handle.describe()
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == RECONCILE_WORKFLOW and action.task_queue == queue
        assert described.schedule.spec.intervals[0].every == timedelta(seconds=60)
        # One pass through the real workflow and activity (grace: nothing here is an orphan).
        result = await temporal_client.execute_workflow(
            RECONCILE_WORKFLOW,
            ReconcileInput(grace_seconds=86_400),
            id=f"reconcile-test-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            result_type=ReconcileResult,
        )
        assert result.failed == []
    finally:
        await handle.delete()


async def test_a_withdrawal_created_while_temporal_is_down_is_started_by_the_reconciler(
    ctx: ServiceContext,
    drill_queue: str,
    private_temporal: PrivateTemporal,
    private_worker: WorkerProcess,
) -> None:
    """503 `temporal_unavailable` with Retry-After, the request kept with its hold (a retry
    with the same key holds nothing more); the reconciler starts its workflow, the retry then
    answers it, and it goes on like any other."""
    drill = {"temporal_address": private_temporal.address, "temporal_task_queue": drill_queue}
    drill_ctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update=drill))
    async with drill_app(ctx, **drill) as api:
        client = await Client.connect(private_temporal.address)
        currency = new_currency(ctx)
        trader = await make_trader(api, ctx, currency, requisites=0)
        sent = withdrawal_body(currency, "100.00")
        # One withdrawal through the worker first (cancelled): it is polling before the
        # engine goes.
        warm = await api.post("/api/trader/withdrawals", json=sent, headers=trader.headers)
        assert warm.status_code == 201, warm.text
        warm_path = f"/api/trader/withdrawals/{warm.json()['id']}"
        await cancelled(api, warm_path, trader.headers)
        private_temporal.stop()

        headers = trader.headers | {"Idempotency-Key": "withdraw-1"}
        for _ in range(2):
            down = await api.post("/api/trader/withdrawals", json=sent, headers=headers)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "temporal_unavailable"
            assert down.headers["Retry-After"] == "5"
        # 100.00 + 1.00 fee, held once.
        assert ledger(ctx, AccountKind.trader, trader.trader_id, currency)[1] == 10_100
        listed = await api.get("/api/trader/withdrawals", headers=trader.headers)
        saved_id = listed.json()["items"][0]["id"]
        assert saved_id != warm.json()["id"]
        workflow_id = withdrawal_workflow_id(saved_id)

        private_temporal.start()
        assert not await workflow_exists(client, workflow_id)
        assert saved_id not in await start_stranded(drill_ctx, client, 3600, 200)
        assert saved_id in await start_stranded(drill_ctx, client, 0, 200)
        assert await workflow_exists(client, workflow_id)
        again = await api.post("/api/trader/withdrawals", json=sent, headers=headers)
        assert again.status_code == 201, again.text
        assert again.json()["id"] == saved_id and again.headers["Idempotent-Replayed"] == "true"
        assert ledger(ctx, AccountKind.trader, trader.trader_id, currency)[1] == 10_100

        # The owner cancels it once the worker is back: the hold goes.
        await cancelled(api, f"/api/trader/withdrawals/{saved_id}", trader.headers)
        assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (100_000_000, 0)


async def cancelled(api: httpx.AsyncClient, path: str, headers: dict[str, str]) -> None:
    """Cancel a withdrawal and wait until it reads cancelled (202, or 503 while the worker
    reconnects, mean: not applied yet)."""
    deadline = asyncio.get_running_loop().time() + 90
    answer = await api.post(f"{path}/cancel", headers=headers)
    while (await api.get(path, headers=headers)).json()["status"] != "cancelled":
        assert asyncio.get_running_loop().time() < deadline, answer.text
        if answer.status_code == 503:
            answer = await api.post(f"{path}/cancel", headers=headers)
        await asyncio.sleep(0.5)
