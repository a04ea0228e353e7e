"""Degrade, don't collapse: with the worker down, actions answer 202 within the wait bound
(the update stays with Temporal and is applied when a worker is back) while status, balances
and login keep answering; the same actor repeating an applied action gets the order; a
database that cannot be reached answers 503 with Retry-After, never 500."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from api.main import create_app
from core.context import ServiceContext
from models.users import Role
from tests.conftest import TEST_DATABASE
from tests.factories import create_user, login
from tests.operations.conftest import WorkerProcess, drill_app
from tests.operations.test_action_drills import ok
from tests.operations.test_worker_drills import assert_settled_once, reached, status_of, until
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body

ORDERS = 25
WAIT_S = 4.0


@pytest.fixture
async def bounded_api(ctx: ServiceContext, drill_queue: str) -> AsyncIterator[httpx.AsyncClient]:
    """The drill API with a short wait bound on actions."""
    async with drill_app(ctx, temporal_task_queue=drill_queue, update_wait_seconds=WAIT_S) as api:
        yield api


async def test_worker_down_under_concurrent_confirms(
    bounded_api: httpx.AsyncClient, ctx: ServiceContext, drill_worker: WorkerProcess
) -> None:
    api = bounded_api
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, requisites=3, max_open_orders=10)
    user = create_user(ctx.engine, Role.merchant)
    orders = []
    # Set up as a client does: a create or "paid" the short wait bound left unanswered on a
    # loaded machine (503 order_not_ready, 202) is sent again after its Retry-After.
    for n in range(ORDERS):
        body = payin_body(currency, amount=f"{1000 + n}.00")
        key = {"Idempotency-Key": body["merchant_order_id"]}
        created = await ok(
            partial(api.post, "/api/gateway/payins", json=body, headers=store.headers | key)
        )
        orders.append(created["id"])
    for order_id in orders:
        await ok(partial(api.post, f"/api/gateway/payins/{order_id}/paid", headers=store.headers))
        await until(partial(reached, ctx, order_id, "payment_claimed"), 90)

    drill_worker.kill()
    confirms = [
        asyncio.create_task(
            api.post(f"/api/trader/orders/{order_id}/confirm", headers=trader.headers)
        )
        for order_id in orders
    ]
    # While 25 confirms wait on a workflow no worker runs, the rest of the API answers.
    status = await api.get(f"/api/gateway/payins/{orders[0]}", headers=store.headers)
    balances = await api.get("/api/trader/balances", headers=trader.headers)
    signed_in = await login(api, user.email)
    still_waiting = sum(not task.done() for task in confirms)
    assert status.status_code == 200 and status.json()["status"] == "payment_claimed"
    assert balances.status_code == 200
    assert signed_in["Authorization"].startswith("Bearer ")
    assert still_waiting > 0, "the confirms came back before the reads: nothing was tested"

    answers = await asyncio.gather(*confirms)
    for order_id, answer in zip(orders, answers, strict=True):
        # Accepted, not applied: the order as it is, and where to poll.
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "payment_claimed"
        assert answer.headers["Location"] == f"/api/trader/orders/{order_id}"
        assert answer.headers["Retry-After"] == "1"

    drill_worker.start()
    for order_id in orders:

        def completed(oid: str = order_id) -> bool:
            return status_of(ctx, oid) == "completed"

        await until(completed, limit_s=90)
        polled = await api.get(f"/api/trader/orders/{order_id}", headers=trader.headers)
        assert polled.json()["status"] == "completed"
        assert_settled_once(ctx, order_id, currency)

    # The trader's retry of an applied confirm answers with the order, not 409 …
    again = await api.post(f"/api/trader/orders/{orders[0]}/confirm", headers=trader.headers)
    assert (again.status_code, again.json()["status"]) == (200, "completed"), again.text
    # … another actor's does not.
    other = await make_trader(api, ctx, currency)
    foreign = await api.post(f"/api/trader/orders/{orders[0]}/confirm", headers=other.headers)
    assert foreign.status_code == 404
    paid_again = await api.post(f"/api/gateway/payins/{orders[1]}/paid", headers=store.headers)
    assert (paid_again.status_code, paid_again.json()["status"]) == (200, "completed")
    cancel = await api.post(f"/api/gateway/payins/{orders[2]}/cancel", headers=store.headers)
    assert (cancel.status_code, cancel.json()["error"]["code"]) == (409, "invalid_transition")


async def test_an_unreachable_database_is_503_with_retry_after(ctx: ServiceContext) -> None:
    # Nothing listens on port 9 (discard): every connection attempt fails at once.
    dead = "postgresql://jivapay@127.0.0.1:9/none?connect_timeout=2"
    settings = ctx.settings.model_copy(update={"database_url": dead})
    other = ServiceContext.build(settings)
    app: FastAPI = create_app(settings, context=other)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as api,
    ):
        status = await api.get(
            f"/api/gateway/payins/{uuid.uuid4()}", headers={"X-API-Key": "pk_live_whatever"}
        )
        signed_in = await api.post(
            "/api/auth/login", json={"email": "a@jivapay.dev", "password": "x" * 12}
        )
    await other.close()
    for answer in (status, signed_in):
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "database_unavailable"
        assert answer.headers["Retry-After"] == "5"


def _terminate_backends(ctx: ServiceContext) -> int:
    """Kill every other connection to the suite's database (API, worker, fixtures)."""
    engine = create_engine(ctx.settings.effective_database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(killed)


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="kills PostgreSQL connections")
async def test_database_connections_killed_mid_traffic(
    bounded_api: httpx.AsyncClient, ctx: ServiceContext, drill_worker: WorkerProcess
) -> None:
    api = bounded_api
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, requisites=3, max_open_orders=10)
    seen: list[int] = []

    async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        # A client that honours 503 + Retry-After (shortened here) and retries as told.
        for _ in range(300):
            answer = await api.request(method, url, **kwargs)
            seen.append(answer.status_code)
            if answer.status_code != 503:
                return answer
            assert "Retry-After" in answer.headers
            await asyncio.sleep(0.1)
        raise AssertionError(f"{url} never recovered")

    async def flow(n: int) -> str:
        body = payin_body(currency, amount=f"{2000 + n}.00")
        headers = store.headers | {"Idempotency-Key": f"kill-{n}"}
        created = await call("POST", "/api/gateway/payins", json=body, headers=headers)
        assert created.status_code == 201, created.text
        order_id = str(created.json()["id"])
        paid = await call("POST", f"/api/gateway/payins/{order_id}/paid", headers=store.headers)
        assert paid.status_code in (200, 202), paid.text
        url = f"/api/trader/orders/{order_id}/confirm"
        done = await call("POST", url, headers=trader.headers)
        assert done.status_code in (200, 202), done.text
        status = await call("GET", f"/api/gateway/payins/{order_id}", headers=store.headers)
        assert status.status_code == 200
        return order_id

    async def killer(done: asyncio.Future[list[str]]) -> int:
        # Every connection, forty times over, while the traffic runs.
        killed = 0
        for _ in range(40):
            if done.done():
                break
            killed += await asyncio.to_thread(_terminate_backends, ctx)
            await asyncio.sleep(0.05)
        return killed

    flows = asyncio.ensure_future(asyncio.gather(*(flow(n) for n in range(12))))
    killed = await killer(flows)
    orders = await flows
    assert killed > 0
    print("answers seen:", {code: seen.count(code) for code in sorted(set(seen))})
    assert 500 not in seen, sorted(set(seen))
    for order_id in orders:

        def completed(oid: str = order_id) -> bool:
            return status_of(ctx, oid) == "completed"

        await until(completed, limit_s=90)
        assert_settled_once(ctx, order_id, currency)
