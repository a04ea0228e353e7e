"""API rolling restart: two API processes (uvicorn, as the launcher serves the app) behind
HAProxy run from `deploy/haproxy/haproxy.cfg`, a worker on the suite's Temporal, and 20
clients creating pay-ins and driving them to completed (customer paid, trader confirms)
while API 1 and then API 2 is stopped with SIGTERM and started again. No client sees an
error; every order completes and is settled once; the money adds up.

What makes it work (api/draining.py): on SIGTERM a process answers its health check 503
`draining` at once and goes on serving for SHUTDOWN_DRAIN_SECONDS, so HAProxy (checking every
200 ms) takes it out of rotation before uvicorn closes the listener; the requests in flight
then finish.

Longer than 60 s on a loaded 2-core machine (70-115 s measured at load 8-18): an API process
takes about 4 s of CPU to import and start (10-35 s of wall time under that load), and the
drill starts four, two of them one after the other while the clients and the worker run."""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import Session, col, select
from uvicorn import Config, Server

from api.draining import Drain
from contracts.processing import OrderStatus
from core.context import ServiceContext
from core.logging import install_request_id, request_id_var
from models.ledger import Hold, HoldStatus, Posting
from models.orders import Order
from tests.factories import worker_env
from tests.operations.balancer import ApiServer, Balancer, balanced
from tests.operations.test_drills import assert_ledger_sound
from tests.operations.test_worker_drills import until
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body

CLIENTS = 20
Headers = dict[str, str]
UNLIMITED = "100000/minute"


@dataclass
class Traffic:
    """What the clients saw: each answer's time, each failure, each order they made."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    answered: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    not_ready: int = 0

    def answered_between(self, start: float, end: float) -> int:
        return sum(start <= at <= end for at in self.answered)


async def send(
    client: httpx.AsyncClient, traffic: Traffic, path: str, ok: tuple[int, ...], **kw: Any
) -> httpx.Response:
    """A request as a careful client sends it: any other answer (or a broken connection) is
    a failure of the drill, and the request is sent again so the order still completes
    (creates carry an Idempotency-Key; an action repeated by its sender answers 200)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        try:
            answer = await client.post(path, **kw)
        except httpx.TransportError as exc:
            traffic.failures.append(f"{path}: {type(exc).__name__}: {exc}")
        else:
            if answer.status_code in ok:
                traffic.answered.append(loop.time())
                return answer
            if slow_workflow(answer):
                # The API answered as documented: the order is saved and its workflow (the
                # worker, on a loaded machine) has not answered yet; the same create again
                # after Retry-After. Not a failure of the restart.
                traffic.not_ready += 1
                assert loop.time() < deadline, answer.text
                await asyncio.sleep(int(answer.headers["Retry-After"]))
                continue
            traffic.failures.append(f"{path}: {answer.status_code} {answer.text[:300]}")
        assert loop.time() < deadline, traffic.failures[-1]
        await serving_again(client, deadline)


async def serving_again(client: httpx.AsyncClient, deadline: float) -> None:
    """After a failed request (already recorded): resend once the balancer has a replica
    that answers `/health` again."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert loop.time() < deadline, "no replica came back"
        await asyncio.sleep(0.05)


def slow_workflow(answer: httpx.Response) -> bool:
    """503 `order_not_ready` with Retry-After: an answer of the API, not of the balancer."""
    if answer.status_code != 503 or "Retry-After" not in answer.headers:
        return False
    try:
        return bool(answer.json()["error"]["code"] == "order_not_ready")
    except (ValueError, KeyError, TypeError):
        return False


async def pay_ins(
    url: str, currency: str, store: Headers, trader: Headers, traffic: Traffic
) -> None:
    """One client: a pay-in, the customer's "paid", the trader's confirm; again until told."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while not traffic.stop.is_set():
            body = payin_body(currency)
            key = {"Idempotency-Key": body["merchant_order_id"]}
            created = await send(
                client, traffic, "/api/gateway/payins", (201,), json=body,
                headers=store | key,
            )  # fmt: skip
            order_id = created.json()["id"]
            traffic.orders.append(order_id)
            url_paid = f"/api/gateway/payins/{order_id}/paid"
            await send(client, traffic, url_paid, (200, 202), headers=store)
            url_confirm = f"/api/trader/orders/{order_id}/confirm"
            await send(client, traffic, url_confirm, (200, 202), headers=trader)


async def restart(server: ApiServer, balancer: Balancer, traffic: Traffic) -> None:
    """Stop a server as an orchestrator does and start it again; return once HAProxy sends
    it traffic again. It must say it is draining, and leave rotation for saying so, while it
    still serves: not because its port closed."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    server.terminate()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as direct:
        await until_draining(direct)
    out = await balancer.until(server.name, "DOWN")
    # Out for a 503 answer (L7STS), not a refused connection (L4CON); "* " while a check runs.
    assert out["check_status"].removeprefix("* ") == "L7STS", out
    assert await asyncio.to_thread(server.exit_code) in (0, -signal.SIGTERM)
    # The clients went on through the other server meanwhile.
    assert traffic.answered_between(started, loop.time()) > 0
    server.proc.restart()  # the same command, on the same port
    await balancer.until(server.name, "UP", also=server.assert_alive)


async def until_draining(direct: httpx.AsyncClient) -> None:
    """`/ready` and `/health` answer 503 `draining` (the signal is handled on the loop)."""
    deadline = asyncio.get_running_loop().time() + 10
    while (await direct.get("/ready")).status_code != 503:
        assert asyncio.get_running_loop().time() < deadline, "never draining"
        await asyncio.sleep(0.05)
    for probe in ("/ready", "/health"):
        answer = await direct.get(probe)
        assert (answer.status_code, answer.json()) == (503, {"status": "draining"}), probe


def assert_completed_once(ctx: ServiceContext, order_ids: list[str], currency: str) -> None:
    ids = [uuid.UUID(order_id) for order_id in order_ids]
    with Session(ctx.engine) as session:
        postings = session.exec(
            select(Posting.order_id, func.count())
            .where(col(Posting.order_id).in_(ids))
            .group_by(col(Posting.order_id))
        ).all()
        holds = session.exec(select(Hold.status).where(col(Hold.order_id).in_(ids))).all()
    assert all_completed(ctx, order_ids)
    assert len(postings) == len(ids) and {count for _, count in postings} == {1}
    assert list(holds) == [HoldStatus.posted] * len(ids)
    assert_ledger_sound(ctx, currency)


def all_completed(ctx: ServiceContext, order_ids: list[str]) -> bool:
    ids = [uuid.UUID(order_id) for order_id in order_ids]
    with Session(ctx.engine) as session:
        statuses = session.exec(select(Order.status).where(col(Order.id).in_(ids))).all()
    return len(statuses) == len(ids) and set(statuses) == {OrderStatus.completed}


async def test_a_rolling_restart_of_the_api_fails_no_request(
    ctx: ServiceContext, api: httpx.AsyncClient, worker: None, tmp_path: Path
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, requisites=10, max_open_orders=None)
    env = worker_env(ctx, ctx.settings.temporal_task_queue) | {
        "REDIS_KEY_PREFIX": ctx.settings.redis_key_prefix,
        "API_RATE_LIMIT": UNLIMITED,
        "IP_RATE_LIMIT": UNLIMITED,
        "USER_RATE_LIMIT": UNLIMITED,
    }
    servers = [ApiServer(f"api{n}", env, tmp_path / f"api{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.wait_listening()
        with balanced(servers, tmp_path) as balancer:
            for server in servers:
                await balancer.until(server.name, "UP", also=server.assert_alive)
            traffic = Traffic()
            clients = [
                asyncio.create_task(
                    pay_ins(balancer.url, currency, store.headers, trader.headers, traffic)
                )
                for _ in range(CLIENTS)
            ]
            # Every client under way (its first order answered) before the first restart.
            await until(lambda: len(traffic.answered) >= CLIENTS, 120)
            for server in servers:
                await restart(server, balancer, traffic)
            traffic.stop.set()
            await asyncio.gather(*clients)
        assert traffic.failures == []
        await until(lambda: all_completed(ctx, traffic.orders), 120)
        assert_completed_once(ctx, traffic.orders, currency)
        assert len(traffic.orders) >= CLIENTS
    finally:
        for server in servers:
            server.proc.stop()


async def test_outside_uvicorn_the_app_leaves_sigterm_alone(app: FastAPI) -> None:
    """The suite's app started its lifespan under pytest: SIGTERM stays pytest's."""
    before = signal.getsignal(signal.SIGTERM)
    assert app.state.drain.install() is False
    assert signal.getsignal(signal.SIGTERM) is before
    assert getattr(before, "__module__", None) != "api.draining"


async def test_the_drain_is_no_request_s_even_when_the_signal_lands_in_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The signal handler interrupts whatever bytecode the main thread runs, often a
    request's: its lines must not carry that request's id (one access line per request)."""
    install_request_id()
    server = Server(Config(app=FastAPI()))
    before = signal.signal(signal.SIGTERM, server.handle_exit)
    try:
        drain = Drain(0.01)
        assert drain.install() is True
        caplog.set_level(logging.WARNING, logger="api.draining")
        token = request_id_var.set("trace-inside-a-request")
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            request_id_var.reset(token)
        await until(lambda: server.should_exit, 10)
    finally:
        signal.signal(signal.SIGTERM, before)
    lines = [r for r in caplog.records if r.name == "api.draining"]
    assert [r.getMessage().split(":")[0] for r in lines] == ["draining", "drained"]
    assert {getattr(r, "request_id", None) for r in lines} == {"-"}
