"""Cancels by each actor, idempotent create, ownership, and the "why no requisite" report."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlmodel import Session, select

from core.context import ServiceContext
from models.ledger import Hold, HoldStatus
from models.orders import Order, OrderEvent
from tests.processing.conftest import (
    CallbackReceiver,
    make_store,
    make_trader,
    new_currency,
    payin_body,
    verify_signature,
)


def hold_status(ctx: ServiceContext, order_id: str) -> HoldStatus:
    with Session(ctx.engine) as session:
        return session.exec(select(Hold).where(Hold.order_id == uuid.UUID(order_id))).one().status


def cancel_event(ctx: ServiceContext, order_id: str) -> OrderEvent:
    with Session(ctx.engine) as session:
        return session.exec(
            select(OrderEvent).where(
                OrderEvent.order_id == uuid.UUID(order_id), OrderEvent.to_status == "cancelled"
            )
        ).one()


async def test_merchant_cancels_before_claim_only(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency, requisites=1)
    first = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    cancelled = await api.post(
        f"/api/gateway/payins/{first['id']}/cancel",
        json={"reason": "customer left"},
        headers=store.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert hold_status(ctx, first["id"]) == HoldStatus.voided
    assert cancel_event(ctx, first["id"]).actor_type == "merchant"

    second = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    await api.post(f"/api/gateway/payins/{second['id']}/paid", headers=store.headers)
    refused = await api.post(f"/api/gateway/payins/{second['id']}/cancel", headers=store.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_transition"


async def test_trader_cancels_with_reason_and_admin_cancels(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, requisites=2)
    one = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    await api.post(f"/api/gateway/payins/{one['id']}/paid", headers=store.headers)
    no_reason = await api.post(
        f"/api/trader/orders/{one['id']}/cancel", json={}, headers=trader.headers
    )
    assert no_reason.status_code == 422
    by_trader = await api.post(
        f"/api/trader/orders/{one['id']}/cancel",
        json={"reason": "no money arrived"},
        headers=trader.headers,
    )
    assert by_trader.json()["status"] == "cancelled"
    event = cancel_event(ctx, one["id"])
    assert (event.actor_type, event.reason, event.from_status) == (
        "trader",
        "no money arrived",
        "payment_claimed",
    )

    two = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    by_admin = await api.post(
        f"/api/admin/orders/{two['id']}/cancel", json={"reason": "fraud"}, headers=admin_headers
    )
    assert by_admin.json()["status"] == "cancelled"
    assert cancel_event(ctx, two["id"]).actor_type == "admin"
    assert hold_status(ctx, two["id"]) == HoldStatus.voided


async def test_idempotent_create(api: httpx.AsyncClient, ctx: ServiceContext, worker: None) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    body = payin_body(currency, "2000.00")
    headers = {**store.headers, "Idempotency-Key": "idem-1"}
    first = await api.post("/api/gateway/payins", json=body, headers=headers)
    again = await api.post("/api/gateway/payins", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()

    changed = await api.post(
        "/api/gateway/payins", json={**body, "amount": "2100.00"}, headers=headers
    )
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    duplicate = await api.post(
        "/api/gateway/payins", json=body, headers={**store.headers, "Idempotency-Key": "idem-2"}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "duplicate_merchant_order_id"
    by_merchant_id = await api.get(
        f"/api/gateway/payins/by-merchant-order/{body['merchant_order_id']}", headers=store.headers
    )
    assert by_merchant_id.json()["id"] == first.json()["id"]
    with Session(ctx.engine) as session:
        assert len(session.exec(select(Order).where(Order.store_id == store.store_id)).all()) == 1


async def test_other_store_and_other_trader_get_404(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store_a, store_b = make_store(ctx, currency), make_store(ctx, currency)
    trader_a = await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store_a.headers)
    ).json()
    trader_b = await make_trader(api, ctx, new_currency(ctx))
    for response in (
        await api.get(f"/api/gateway/payins/{order['id']}", headers=store_b.headers),
        await api.post(f"/api/gateway/payins/{order['id']}/cancel", headers=store_b.headers),
        await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store_b.headers),
        await api.post(f"/api/trader/orders/{order['id']}/confirm", headers=trader_b.headers),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "order_not_found"
    mine = await api.get(f"/api/gateway/payins/{order['id']}", headers=store_a.headers)
    assert mine.json()["status"] == "awaiting_payment"
    assert trader_a.trader_id != trader_b.trader_id


async def test_no_requisite_fails_with_reasons(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    receiver: CallbackReceiver,
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, callback_url=receiver.url)
    await make_trader(api, ctx, currency, balance_minor=10_000)  # 100.00: too little
    await make_trader(api, ctx, currency, max_amount_minor=50_000)  # 500.00 at most
    response = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "1500.00"), headers=store.headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "no_requisite"
    order_id = error["details"]["order_id"]
    report = (
        await api.get(f"/api/admin/orders/{order_id}/match-report", headers=admin_headers)
    ).json()
    assert report["status"] == "failed" and report["failure_reason"] == "no_requisite"
    assert sorted(r["reason"] for r in report["rejections"]) == [
        "amount_out_of_bounds",
        "insufficient_balance",
    ]
    # The merchant is told too, as of every final status.
    for _ in range(100):
        if receiver.received:
            break
        await asyncio.sleep(0.1)
    event = verify_signature(store.secret, receiver.received[0])
    assert event["type"] == "payin.failed"
    assert event["data"] | {"order_id": order_id, "failure_reason": "no_requisite"} == event["data"]


async def test_an_order_id_that_found_no_requisite_can_be_tried_again(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    body = payin_body(currency, "1500.00")
    first = await api.post(
        "/api/gateway/payins", json=body, headers=store.headers | {"Idempotency-Key": "try-1"}
    )
    assert first.status_code == 422 and first.json()["error"]["code"] == "no_requisite"
    # The same key answers the same failure; it never starts a second order.
    again = await api.post(
        "/api/gateway/payins", json=body, headers=store.headers | {"Idempotency-Key": "try-1"}
    )
    assert again.status_code == 422
    assert again.json()["error"]["details"] == first.json()["error"]["details"]

    await make_trader(api, ctx, currency)
    retried = await api.post(
        "/api/gateway/payins", json=body, headers=store.headers | {"Idempotency-Key": "try-2"}
    )
    assert retried.status_code == 201, retried.text
    assert retried.json()["status"] == "awaiting_payment"
    found = await api.get(
        f"/api/gateway/payins/by-merchant-order/{body['merchant_order_id']}", headers=store.headers
    )
    assert found.json()["id"] == retried.json()["id"]
    # Once an order under the id is live, the id is taken.
    third = await api.post(
        "/api/gateway/payins", json=body, headers=store.headers | {"Idempotency-Key": "try-3"}
    )
    assert third.status_code == 409
    assert third.json()["error"]["code"] == "duplicate_merchant_order_id"
    with Session(ctx.engine) as session:
        statuses = session.exec(
            select(Order.status).where(
                Order.store_id == store.store_id,
                Order.merchant_order_id == body["merchant_order_id"],
            )
        ).all()
    assert sorted(statuses) == ["awaiting_payment", "failed"]


async def test_unique_amount_shifts_within_store_bounds(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, amount_shift_step_minor=100, amount_shift_max_minor=100)
    await make_trader(api, ctx, currency, requisites=1, max_open_orders=10)
    amounts = []
    for _ in range(3):
        r = await api.post(
            "/api/gateway/payins", json=payin_body(currency, "1000.00"), headers=store.headers
        )
        assert r.status_code == 201
        amounts.append((r.json()["requested_amount"], r.json()["amount"]))
    assert amounts == [("1000.00", "1000.00"), ("1000.00", "1001.00"), ("1000.00", "999.00")]
    fourth = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "1000.00"), headers=store.headers
    )
    assert fourth.status_code == 422


async def test_cooldown_moves_next_order_to_another_requisite(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency, cooldown_seconds=3600)
    first = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "1000.00"), headers=store.headers
    )
    assert first.status_code == 201
    second = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "2000.00"), headers=store.headers
    )
    assert second.status_code == 422
    order_id = second.json()["error"]["details"]["order_id"]
    report = await api.get(f"/api/admin/orders/{order_id}/match-report", headers=admin_headers)
    assert [r["reason"] for r in report.json()["rejections"]] == ["cooldown"]
