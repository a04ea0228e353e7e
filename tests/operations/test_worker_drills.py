"""Drills with the worker SIGKILLed at each step boundary of a pay-in, and a merchant's
receiver that is down then up. Deterministic: the kill follows an observed state, never a
sleep. Each ends with the money checked: one settlement, one final status, Σ = 0."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from functools import partial

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel import Session, select

from core.context import ServiceContext
from models.ledger import AccountKind, Hold, HoldStatus, Posting
from models.orders import CallbackAttempt, CallbackDelivery, Order, OrderEvent
from processing.ledger.postings import account_for
from tests.operations.conftest import PrivateTemporal, WorkerProcess, drill_app
from tests.operations.test_drills import assert_ledger_sound
from tests.processing.conftest import (
    CallbackReceiver,
    StoreKit,
    TraderKit,
    make_store,
    make_trader,
    new_currency,
    payin_body,
    verify_signature,
)
from tests.processing.payout_kit import created


async def until(check: Callable[[], bool], limit_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while not await asyncio.to_thread(check):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("state not reached in time")
        await asyncio.sleep(0.1)


async def open_order(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> tuple[str, StoreKit, TraderKit, str]:
    """A fresh currency, store and funded trader, and one matched pay-in."""
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency)
    order = await created(api, "/api/gateway/payins", payin_body(currency), store.headers)
    return currency, store, trader, order["id"]


def status_of(ctx: ServiceContext, order_id: str) -> str:
    with Session(ctx.engine) as session:
        order = session.get(Order, uuid.UUID(order_id))
        assert order is not None
        return order.status.value


def reached(ctx: ServiceContext, order_id: str, status: str) -> bool:
    return status_of(ctx, order_id) == status


def assert_settled_once(ctx: ServiceContext, order_id: str, currency: str) -> None:
    oid = uuid.UUID(order_id)
    with Session(ctx.engine) as session:
        assert len(session.exec(select(Posting).where(Posting.order_id == oid)).all()) == 1
        assert session.exec(select(Hold).where(Hold.order_id == oid)).one().status == (
            HoldStatus.posted
        )
        events = session.exec(select(OrderEvent).where(OrderEvent.order_id == oid)).all()
    statuses = [e.to_status.value for e in events]
    assert sorted(statuses) == sorted(set(statuses)), statuses  # one event per transition
    assert statuses.count("completed") == 1
    assert_ledger_sound(ctx, currency)


@pytest.mark.parametrize("boundary", ["after_match", "after_claim"])
async def test_worker_killed_at_a_step_boundary(
    drill_api: httpx.AsyncClient,
    ctx: ServiceContext,
    drill_worker: WorkerProcess,
    boundary: str,
) -> None:
    api = drill_api
    currency, store, trader, order_id = await open_order(api, ctx)
    if boundary == "after_match":
        await until(lambda: status_of(ctx, order_id) == "awaiting_payment")
        drill_worker.kill()
        drill_worker.start()
    # A restarted worker may take longer than the API's wait bound to pick the workflow up:
    # then the action is answered 202 and applied when it does.
    paid = await api.post(f"/api/gateway/payins/{order_id}/paid", headers=store.headers)
    assert paid.status_code in (200, 202), paid.text
    await until(lambda: status_of(ctx, order_id) == "payment_claimed")
    if boundary == "after_claim":
        drill_worker.kill()
        drill_worker.start()
    done = await api.post(f"/api/trader/orders/{order_id}/confirm", headers=trader.headers)
    assert done.status_code in (200, 202), done.text
    await until(lambda: status_of(ctx, order_id) == "completed")
    assert_settled_once(ctx, order_id, currency)


def _blocked_on_ledger(ctx: ServiceContext) -> bool:
    with ctx.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query ILIKE 'UPDATE ledger_accounts%'"
            )
        ).scalar_one()
    return bool(waiting)


async def test_worker_killed_during_settlement(
    drill_api: httpx.AsyncClient, ctx: ServiceContext, drill_worker: WorkerProcess
) -> None:
    if ctx.settings.uses_sqlite:
        pytest.skip("holds a row lock on one ledger account: PostgreSQL only")
    api = drill_api
    currency, store, trader, order_id = await open_order(api, ctx)
    await api.post(f"/api/gateway/payins/{order_id}/paid", headers=store.headers)
    with Session(ctx.engine) as session:
        account = account_for(session, AccountKind.store, store.store_id, currency)
        session.commit()
        account_id = account.id
    # The store's account is locked by us (as a settlement's own UPDATE would lock it; the
    # foreign-key checks of its entries still pass): the settlement blocks inside its
    # transaction, at the balance update.
    with ctx.engine.connect() as holder:
        holder.execute(
            text("SELECT id FROM ledger_accounts WHERE id = :id FOR NO KEY UPDATE"),
            {"id": account_id},
        )
        confirm = asyncio.create_task(
            api.post(f"/api/trader/orders/{order_id}/confirm", headers=trader.headers)
        )
        await until(lambda: _blocked_on_ledger(ctx))
        drill_worker.kill()
        holder.rollback()
    drill_worker.start()
    done = await asyncio.wait_for(confirm, timeout=120)
    # Answered 202 when the restarted worker took longer than the wait bound; applied anyway.
    assert done.status_code in (200, 202), done.text
    await until(partial(reached, ctx, order_id, "completed"))
    assert_settled_once(ctx, order_id, currency)


async def test_receiver_down_then_up_gets_one_delivery_with_one_event_id(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, app: FastAPI
) -> None:
    receiver = CallbackReceiver()
    receiver.failures = 2  # down for two attempts, then up
    try:
        currency = new_currency(ctx)
        store = make_store(ctx, currency, callback_url=receiver.url)
        trader = await make_trader(api, ctx, currency)
        order_id = (await created(api, "/api/gateway/payins", payin_body(currency), store.headers))[
            "id"
        ]
        await api.post(f"/api/gateway/payins/{order_id}/paid", headers=store.headers)
        await api.post(f"/api/trader/orders/{order_id}/confirm", headers=trader.headers)
        await asyncio.wait_for(asyncio.to_thread(receiver.event.wait, 60), timeout=70)
    finally:
        receiver.close()
    ids = {verify_signature(store.secret, r)["id"] for r in receiver.received}
    assert len(receiver.received) == 3 and len(ids) == 1
    event_id = ids.pop()
    await until(lambda: _delivery_status(ctx, event_id) == ("delivered", 3))


def _delivery_status(ctx: ServiceContext, event_id: str) -> tuple[str, int]:
    with Session(ctx.engine) as session:
        delivery = session.exec(
            select(CallbackDelivery).where(CallbackDelivery.event_id == event_id)
        ).one()
        attempts = session.exec(
            select(CallbackAttempt).where(CallbackAttempt.delivery_id == delivery.id)
        ).all()
    return delivery.status.value, len(attempts)


async def test_orders_waiting_survive_a_temporal_server_restart(
    ctx: ServiceContext,
    drill_queue: str,
    private_temporal: PrivateTemporal,
    private_worker: WorkerProcess,
) -> None:
    address = private_temporal.address
    async with drill_app(ctx, temporal_address=address, temporal_task_queue=drill_queue) as api:
        currency = new_currency(ctx)
        store = make_store(ctx, currency)
        trader = await make_trader(api, ctx, currency, requisites=3)
        orders = [
            (await created(api, "/api/gateway/payins", payin_body(currency, a), store.headers))[
                "id"
            ]
            for a in ("1500.00", "1600.00", "1700.00")
        ]
        private_temporal.stop()
        private_temporal.start()
        for order_id in orders:
            # 202 while the worker reconnects; applied once it does.
            paid = await api.post(f"/api/gateway/payins/{order_id}/paid", headers=store.headers)
            assert paid.status_code in (200, 202), paid.text
            await until(partial(reached, ctx, order_id, "payment_claimed"))
            done = await api.post(f"/api/trader/orders/{order_id}/confirm", headers=trader.headers)
            assert done.status_code in (200, 202), done.text
            await until(partial(reached, ctx, order_id, "completed"))
            assert_settled_once(ctx, order_id, currency)
