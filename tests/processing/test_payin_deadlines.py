"""Durable deadlines: no payment claim → expired (hold released); no confirm → disputed."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlmodel import Session, select

from core.context import ServiceContext
from models.ledger import Hold, HoldStatus, LedgerAccount
from models.orders import OrderEvent
from tests.processing.conftest import (
    CallbackReceiver,
    make_store,
    make_trader,
    new_currency,
    payin_body,
    verify_signature,
)


async def wait_for_status(
    api: httpx.AsyncClient, headers: dict[str, str], order_id: str, status: str
) -> dict:
    body: dict = {}
    for _ in range(150):
        body = (await api.get(f"/api/gateway/payins/{order_id}", headers=headers)).json()
        if body["status"] == status:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {order_id} stayed {body.get('status')}, wanted {status}")


async def test_payment_deadline_expires_and_releases_hold(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, receiver: CallbackReceiver
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, payment_deadline_seconds=2, callback_url=receiver.url)
    trader = await make_trader(api, ctx, currency, balance_minor=500_000)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    assert order["status"] == "awaiting_payment"

    await wait_for_status(api, store.headers, order["id"], "expired")
    with Session(ctx.engine) as session:
        hold = session.exec(select(Hold).where(Hold.order_id == uuid.UUID(order["id"]))).one()
        assert hold.status == HoldStatus.voided
        account = session.exec(
            select(LedgerAccount).where(LedgerAccount.owner_id == trader.trader_id)
        ).one()
        assert (account.balance_minor, account.held_minor) == (500_000, 0)
        event = session.exec(
            select(OrderEvent).where(
                OrderEvent.order_id == uuid.UUID(order["id"]), OrderEvent.to_status == "expired"
            )
        ).one()
        assert event.actor_type == "system" and event.reason == "payment_deadline"

    late = await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store.headers)
    assert late.status_code == 409 and late.json()["error"]["code"] == "invalid_transition"
    assert await asyncio.to_thread(receiver.event.wait, 15)
    assert verify_signature(store.secret, receiver.received[0])["type"] == "payin.expired"


async def test_trader_deadline_disputes_then_admin_resolves(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, trader_deadline_seconds=1)
    trader = await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    claimed = await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store.headers)
    assert claimed.json()["status"] == "payment_claimed"

    await wait_for_status(api, store.headers, order["id"], "disputed")
    # Disputed is not silently cancelled: the hold stays until someone decides.
    with Session(ctx.engine) as session:
        hold = session.exec(select(Hold).where(Hold.order_id == uuid.UUID(order["id"]))).one()
        assert hold.status == HoldStatus.pending
    too_late = await api.post(f"/api/trader/orders/{order['id']}/confirm", headers=trader.headers)
    assert too_late.status_code == 409

    resolved = await api.post(f"/api/admin/orders/{order['id']}/confirm", headers=admin_headers)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "completed"
    # a staff write like any other: in the audit log, with the status before and after
    audit = (await api.get("/api/admin/audit", headers=admin_headers)).json()
    entries = audit["items"] if isinstance(audit, dict) else audit
    mine = [e for e in entries if e["target_id"] == order["id"]]
    assert [(e["action"], e["before"], e["after"]) for e in mine] == [
        (
            "POST /api/admin/orders/{order_id}/confirm",
            {"status": "disputed"},
            {"status": "completed"},
        )
    ]
    timeline = await api.get(f"/api/admin/orders/{order['id']}/timeline", headers=admin_headers)
    assert [e["to_status"] for e in timeline.json()] == [
        "awaiting_payment",
        "payment_claimed",
        "disputed",
        "completed",
    ]
    postings = await api.get(f"/api/admin/orders/{order['id']}/postings", headers=admin_headers)
    legs = postings.json()[0]["entries"]
    assert sum(float(leg["amount"]) * 100 for leg in legs) == 0
