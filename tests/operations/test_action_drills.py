"""Every order action, not only the one a drill happened to try, under the same two faults:

- the worker stopped: each action answers 202 with the order as it is and a Location its
  sender can read (never a 4xx for an order that exists), and is applied once a worker is
  back;
- the Temporal server stopped and started again: each action answers 503
  `temporal_unavailable` with Retry-After while it is away, and the same action sent again
  once it is back is applied (never a spurious 409), also when it follows the order's
  previous action at once.

Each ends with the money checked (Σ = 0, nothing negative)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
from sqlmodel import Session, col, select
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleOverlapPolicy,
)

from contracts.processing import OrderKind, order_workflow_id
from contracts.reconcile import reconcile_schedule_id
from core.context import ServiceContext
from models.orders import Order, PendingAction
from models.users import Role
from tests.factories import create_user, login
from tests.operations.conftest import PrivateTemporal, WorkerProcess, drill_app
from tests.operations.test_drills import assert_ledger_sound
from tests.operations.test_worker_drills import reached, status_of, until
from tests.processing.conftest import (
    StoreKit,
    TraderKit,
    make_store,
    make_trader,
    new_currency,
    payin_body,
)
from tests.processing.payout_kit import (
    PNG,
    as_client,
    create_rule,
    fund_store,
    payout_body,
    payout_trader,
)

WAIT_S = 2.0
PROOF = {"proof": ("p.png", PNG, "image/png")}


@dataclass
class Action:
    """One action on one order: who sends what, where they read the order, what it leads to."""

    name: str
    order_id: str
    path: str
    headers: dict[str, str]
    target: str
    send: dict[str, Any] = field(default_factory=dict)  # json / data / files

    async def post(self, api: httpx.AsyncClient) -> httpx.Response:
        return await api.post(self.path, headers=self.headers, **self.send)


@dataclass
class Parties:
    api: httpx.AsyncClient
    ctx: ServiceContext
    payin_currency: str
    payout_currency: str
    store: StoreKit
    payout_store: StoreKit
    trader: TraderKit
    payout_trader: TraderKit
    admin: dict[str, str]
    review_store: StoreKit  # every pay-in of it goes to an admin's review first


async def parties(api: httpx.AsyncClient, ctx: ServiceContext) -> Parties:
    payin_currency, payout_currency = new_currency(ctx), new_currency(ctx)
    admin = await login(api, create_user(ctx.engine, Role.admin).email)
    store = make_store(ctx, payin_currency)
    trader = await make_trader(api, ctx, payin_currency, requisites=10)
    settings = {"payout_enabled": True, "payout_fee_bps": 200, "payout_review_seconds": 600}
    pstore = make_store(ctx, payout_currency, **settings)
    await fund_store(api, admin, pstore, "50000.00")
    ptrader = await payout_trader(api, ctx, payout_currency, max_open_payouts=10)
    review_store = make_store(ctx, payin_currency)
    rule = {"name": "review all", "kind": "amount", "action": "review", "amount_over_minor": 1}
    await create_rule(api, admin, store_id=str(review_store.store_id), **rule)
    return Parties(
        api, ctx, payin_currency, payout_currency, store, pstore, trader, ptrader, admin,
        review_store,
    )  # fmt: skip


Send = Callable[[], Awaitable[httpx.Response]]


async def ok(send: Send) -> dict[str, Any]:
    """A setting-up call, sent as a client does: again after a 503's Retry-After (the drill's
    short wait bound may pass on a loaded machine), and accepted or applied in the end."""
    answer = await as_client(send)
    assert answer.status_code in (200, 201, 202), answer.text
    return dict(answer.json())


async def driven_to(p: Parties, order_id: str, status: str) -> str:
    await until(partial(reached, p.ctx, order_id, status), 120)
    return order_id


async def payin_in(p: Parties, status: str, amount: int) -> str:
    """A pay-in driven (worker up) to `status`: awaiting_payment, payment_claimed, disputed."""
    post = partial(p.api.post, headers=p.store.headers)
    body = payin_body(p.payin_currency, f"{amount}.00")
    order_id = str((await ok(partial(post, "/api/gateway/payins", json=body)))["id"])
    url = f"/api/gateway/payins/{order_id}"
    await driven_to(p, order_id, "awaiting_payment")
    if status in ("payment_claimed", "disputed"):
        await ok(partial(post, f"{url}/paid"))
        await driven_to(p, order_id, "payment_claimed")
    if status == "disputed":
        reason = {"reason": "the customer says they paid twice"}
        await ok(partial(post, f"{url}/dispute", data=reason))
    return await driven_to(p, order_id, status)


async def on_review(p: Parties, amount: int) -> str:
    """A pay-in a fraud rule sent to an admin's review."""
    body = payin_body(p.payin_currency, f"{amount}.00")
    post = partial(p.api.post, "/api/gateway/payins", json=body, headers=p.review_store.headers)
    return await driven_to(p, str((await ok(post))["id"]), "on_review")


async def payout_in(p: Parties, status: str) -> str:
    """A pay-out driven (worker up) to `status`: created, assigned, disputed."""
    post = partial(p.api.post, headers=p.payout_store.headers)
    body = payout_body(p.payout_currency)
    order_id = str((await ok(partial(post, "/api/gateway/payouts", json=body)))["id"])
    await until(partial(held, p.ctx, order_id), 120)
    if status in ("assigned", "disputed"):
        take = f"/api/trader/payouts/{order_id}/take"
        await ok(partial(p.api.post, take, headers=p.payout_trader.headers))
        await driven_to(p, order_id, "assigned")
    if status == "disputed":
        reason = {"reason": "nothing came"}
        await ok(partial(post, f"/api/gateway/payouts/{order_id}/dispute", data=reason))
    return await driven_to(p, order_id, status)


def held(ctx: ServiceContext, order_id: str) -> bool:
    """A pay-out in the pool: held on the store's balance (its take deadline is set)."""
    with Session(ctx.engine) as session:
        order = session.get(Order, uuid.UUID(order_id))
        return order is not None and order.expires_at is not None


async def every_action(p: Parties, base: int) -> list[Action]:
    """Each action the API offers on an order, on an order of its own in the right status."""
    s, t, a = p.store.headers, p.trader.headers, p.admin
    o, ps = p.payout_trader.headers, p.payout_store.headers
    resolve = {"json": {"outcome": "completed", "reason": "the bank confirms it"}}
    amounts = iter(range(base, base + 100))

    async def payin(status: str) -> str:
        return await payin_in(p, status, next(amounts))

    plan: list[tuple[str, Awaitable[str], str, dict[str, str], str, dict[str, Any]]] = [
        ("customer paid", payin("awaiting_payment"), "gateway/payins/{}/paid", s,
         "payment_claimed", {}),
        ("trader confirms", payin("payment_claimed"), "trader/orders/{}/confirm", t,
         "completed", {}),
        ("trader cancels", payin("awaiting_payment"), "trader/orders/{}/cancel", t,
         "cancelled", {"json": {"reason": "the customer asked"}}),
        ("merchant cancels", payin("awaiting_payment"), "gateway/payins/{}/cancel", s,
         "cancelled", {}),
        ("merchant disputes", payin("payment_claimed"), "gateway/payins/{}/dispute", s,
         "disputed", {"data": {"reason": "the customer paid"}}),
        ("support disputes", payin("payment_claimed"), "admin/orders/{}/dispute", a,
         "disputed", {"json": {"reason": "a complaint"}}),
        ("admin confirms", payin("payment_claimed"), "admin/orders/{}/confirm", a,
         "completed", {}),
        ("admin cancels", payin("awaiting_payment"), "admin/orders/{}/cancel", a,
         "cancelled", {}),
        ("admin resolves a pay-in", payin("disputed"), "admin/orders/{}/resolve", a,
         "completed", resolve),
        ("admin approves a review", on_review(p, next(amounts)), "admin/orders/{}/review", a,
         "awaiting_payment", {"json": {"decision": "approve", "reason": "known customer"}}),
        ("trader takes", payout_in(p, "created"), "trader/payouts/{}/take", o, "assigned", {}),
        ("trader paid", payout_in(p, "assigned"), "trader/payouts/{}/paid", o, "paid",
         {"files": PROOF}),
        ("merchant cancels a pay-out", payout_in(p, "created"), "gateway/payouts/{}/cancel",
         ps, "cancelled", {}),
        ("merchant disputes a pay-out", payout_in(p, "assigned"), "gateway/payouts/{}/dispute",
         ps, "disputed", {"data": {"reason": "nothing arrived"}}),
        ("admin resolves a pay-out", payout_in(p, "disputed"), "admin/orders/{}/resolve", a,
         "completed", resolve),
    ]  # fmt: skip
    actions = []
    for name, order, path, headers, target, send in plan:
        order_id = await order
        url = "/api/" + path.format(order_id)
        actions.append(Action(name, order_id, url, headers, target, send))
    return actions


async def resent(action: Action, api: httpx.AsyncClient) -> httpx.Response:
    """The action sent as a client does: again after each 503's Retry-After (bounded)."""
    return await as_client(partial(action.post, api))


async def all_reach(ctx: ServiceContext, actions: list[Action]) -> None:
    for action in actions:
        check: Callable[[], bool] = partial(reached, ctx, action.order_id, action.target)
        await until(check, 120)


def money_sound(p: Parties) -> None:
    assert_ledger_sound(p.ctx, p.payin_currency)
    assert_ledger_sound(p.ctx, p.payout_currency)


async def test_every_action_waits_out_a_stopped_worker_and_a_temporal_restart(
    ctx: ServiceContext, drill_queue: str, private_temporal: PrivateTemporal,
    private_worker: WorkerProcess,
) -> None:  # fmt: skip
    address = private_temporal.address
    drill = {"temporal_address": address, "temporal_task_queue": drill_queue}
    async with drill_app(ctx, update_wait_seconds=WAIT_S, **drill) as api:
        p = await parties(api, ctx)
        actions = await every_action(p, 1000)
        before = {a.order_id: status_of(ctx, a.order_id) for a in actions}
        private_worker.kill()
        answers = await asyncio.gather(*(a.post(api) for a in actions))
        for action, answer in zip(actions, answers, strict=True):
            # Accepted, not applied: the order as it is, and where its sender reads it.
            assert answer.status_code == 202, (action.name, answer.text)
            assert answer.json()["status"] == before[action.order_id], action.name
            assert answer.headers["Retry-After"] == "1"
            polled = await api.get(answer.headers["Location"], headers=action.headers)
            assert polled.status_code == 200, (action.name, polled.text)
            assert polled.json()["id"] == action.order_id
        # Temporal restarts before any worker accepted them: it forgets updates it only
        # admitted. The reconciler's pass (a schedule, run at once here) sends them again.
        private_temporal.stop()
        private_temporal.start()
        private_worker.start()
        await run_reconciler(address, drill_queue)
        await all_reach(ctx, actions)
        assert resends(ctx, actions) > 0  # the restart did lose some: they came back
        taken = next(a for a in actions if a.name == "trader takes")
        mine = await api.get(f"/api/trader/payouts/{taken.order_id}", headers=taken.headers)
        assert mine.json()["recipient"]["number"].replace(" ", "").isdigit(), mine.text
        money_sound(p)


async def run_reconciler(address: str, queue: str) -> None:
    """Trigger the reconciler's schedule and wait for a pass started after the trigger."""
    client = await Client.connect(address)
    schedule = client.get_schedule_handle(reconcile_schedule_id(queue))
    deadline = asyncio.get_running_loop().time() + 60
    seen = {started_id(a) for a in (await schedule.describe()).info.recent_actions}
    # Its own pass even while a scheduled one is still running (the schedule skips overlaps:
    # one started on the minute during the outage once held this trigger back past 60 s).
    await schedule.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    while not (new := [a for a in (await schedule.describe()).info.recent_actions
                       if started_id(a) not in seen]):  # fmt: skip
        assert asyncio.get_running_loop().time() < deadline, "the reconciler did not run"
        await asyncio.sleep(0.2)
    await client.get_workflow_handle(started_id(new[-1])).result()


def started_id(action: ScheduleActionResult) -> str:
    started = action.action
    assert isinstance(started, ScheduleActionExecutionStartWorkflow)
    return started.workflow_id


def resends(ctx: ServiceContext, actions: list[Action]) -> int:
    """How many times the reconciler sent these actions' updates again."""
    ids = [order_workflow_id(kind, a.order_id) for a in actions for kind in OrderKind]
    with Session(ctx.engine) as session:
        rows = session.exec(select(PendingAction).where(col(PendingAction.workflow_id).in_(ids)))
        return sum(row.resends for row in rows)


async def test_every_action_through_a_temporal_restart(
    ctx: ServiceContext, drill_queue: str, private_temporal: PrivateTemporal,
    private_worker: WorkerProcess,
) -> None:  # fmt: skip
    address = private_temporal.address
    drill = {"temporal_address": address, "temporal_task_queue": drill_queue}
    async with drill_app(ctx, update_wait_seconds=WAIT_S, **drill) as api:
        p = await parties(api, ctx)
        actions = await every_action(p, 2000)
        private_temporal.stop()
        answers = await asyncio.gather(*(a.post(api) for a in actions))
        for action, answer in zip(actions, answers, strict=True):
            assert answer.status_code == 503, (action.name, answer.text)
            assert answer.json()["error"]["code"] == "temporal_unavailable", action.name
            assert int(answer.headers["Retry-After"]) > 0
        private_temporal.start()
        # Sent again once the engine is back (503 says when: the client may still be
        # reconnecting): applied (200, or 202 while the worker reconnects), never refused.
        for action in actions:
            again = await resent(action, api)
            assert again.status_code in (200, 202), (action.name, again.text)
        await all_reach(ctx, actions)
        # An action sent the moment the order's previous one was answered.
        order_id = await payout_in(p, "created")
        o, url = p.payout_trader.headers, f"/api/trader/payouts/{order_id}"
        await ok(partial(api.post, f"{url}/take", headers=o))
        # The moment the pay-out reads as the trader's (its workflow may not have heard yet).
        await driven_to(p, order_id, "assigned")
        paid = await api.post(f"{url}/paid", headers=o, files=PROOF)
        assert paid.status_code in (200, 202), paid.text
        await driven_to(p, order_id, "paid")
        money_sound(p)


def test_the_drill_covers_every_order_action_route() -> None:
    """A new action route must join the drills above."""
    from api.main import create_app

    covered = {
        "/api/gateway/payins/{order_id}/paid", "/api/trader/orders/{order_id}/confirm",
        "/api/trader/orders/{order_id}/cancel", "/api/gateway/payins/{order_id}/cancel",
        "/api/gateway/payins/{order_id}/dispute", "/api/admin/orders/{order_id}/dispute",
        "/api/admin/orders/{order_id}/confirm", "/api/admin/orders/{order_id}/cancel",
        "/api/admin/orders/{order_id}/resolve", "/api/trader/payouts/{order_id}/take",
        "/api/trader/payouts/{order_id}/paid", "/api/gateway/payouts/{order_id}/cancel",
        "/api/gateway/payouts/{order_id}/dispute", "/api/admin/orders/{order_id}/review",
    }  # fmt: skip
    app = create_app()
    actions = {
        route.path  # type: ignore[attr-defined]
        for route in app.routes
        if "POST" in getattr(route, "methods", ())
        and route.path.startswith(("/api/gateway/pay", "/api/trader/", "/api/admin/orders/"))  # type: ignore[attr-defined]
        and route.path.endswith(  # type: ignore[attr-defined]
            ("/paid", "/confirm", "/cancel", "/dispute", "/resolve", "/take", "/review")
        )
    }
    assert actions <= covered, actions - covered
