"""The pay-in lifecycle end to end through the HTTP API, the worker and a real callback."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlmodel import Session, col, func, select
from temporalio.client import Client

from contracts.search_attributes import ORDER_STATUS, TRADER_ID
from core.context import ServiceContext
from models.ledger import AccountKind, Entry, Hold, HoldStatus, LedgerAccount, Posting
from models.orders import OrderEvent
from tests.processing.conftest import (
    CallbackReceiver,
    make_store,
    make_trader,
    new_currency,
    payin_body,
    verify_signature,
)


def balances(ctx: ServiceContext, owner_id: uuid.UUID) -> tuple[int, int]:
    with Session(ctx.engine) as session:
        account = session.exec(
            select(LedgerAccount).where(LedgerAccount.owner_id == owner_id)
        ).one()
        return account.balance_minor, account.held_minor


async def wait_for_status(
    api: httpx.AsyncClient, kit_headers: dict[str, str], order_id: str, status: str
) -> dict:
    for _ in range(100):
        body = (await api.get(f"/api/gateway/payins/{order_id}", headers=kit_headers)).json()
        if body["status"] == status:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {order_id} stayed {body['status']}, wanted {status}")


async def test_happy_path_settles_and_calls_back(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    receiver: CallbackReceiver,
    temporal_client: Client,
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, callback_url=receiver.url, payin_fee_bps=300)
    trader = await make_trader(api, ctx, currency, balance_minor=1_000_000)

    created = await api.post(
        "/api/gateway/payins",
        json=payin_body(currency, "1500.00"),
        headers={**store.headers, "Idempotency-Key": "k1"},
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "awaiting_payment"
    assert order["amount"] == "1500.00" and order["expires_at"]
    number = order["requisite"]["number"]
    assert len(number) == 16 and "*" not in number
    assert order["requisite"]["holder_name"] == "Ivan P."
    assert balances(ctx, trader.trader_id) == (1_000_000, 150_000)

    read = (await api.get(f"/api/gateway/payins/{order['id']}", headers=store.headers)).json()
    assert read["requisite"]["number"] == "****" + number[-4:]

    paid = await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store.headers)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "payment_claimed"
    assert paid.json()["trader_deadline_at"]

    open_orders = (await api.get("/api/trader/orders", headers=trader.headers)).json()
    assert [o["id"] for o in open_orders] == [order["id"]]
    assert number not in str(open_orders)

    confirmed = await api.post(f"/api/trader/orders/{order['id']}/confirm", headers=trader.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "completed"

    # Trader: −1500 + 1% reward; store: +1500 − 3% fee; platform: fee − reward.
    assert balances(ctx, trader.trader_id) == (1_000_000 - 150_000 + 1_500, 0)
    assert balances(ctx, store.store_id) == (150_000 - 4_500, 0)
    with Session(ctx.engine) as session:
        oid = uuid.UUID(order["id"])
        postings = session.exec(select(Posting).where(Posting.order_id == oid)).all()
        assert [p.kind for p in postings] == ["payin_settle"]
        total = session.exec(
            select(func.sum(Entry.amount_minor)).where(Entry.posting_id == postings[0].id)
        ).one()
        assert total == 0
        assert (
            session.exec(select(Hold).where(Hold.order_id == oid)).one().status == HoldStatus.posted
        )
        events = session.exec(
            select(OrderEvent).where(OrderEvent.order_id == oid).order_by(col(OrderEvent.at))
        ).all()
        assert [(e.from_status, e.to_status) for e in events] == [
            ("created", "awaiting_payment"),
            ("awaiting_payment", "payment_claimed"),
            ("payment_claimed", "completed"),
        ]
        assert events[-1].actor_type == "trader" and events[-1].actor_id == str(trader.trader_id)

    assert await asyncio.to_thread(receiver.event.wait, 15)
    event = verify_signature(store.secret, receiver.received[0])
    assert event["type"] == "payin.completed"
    assert event["data"]["order_id"] == order["id"] and event["data"]["amount"] == "1500.00"
    assert number not in receiver.received[0].body.decode()

    # Ops see the status in search attributes; histories never hold the card number.
    handle = temporal_client.get_workflow_handle(f"payin-{order['id']}")
    described = await handle.describe()
    assert described.typed_search_attributes.get(ORDER_STATUS) == "completed"
    assert described.typed_search_attributes.get(TRADER_ID) == str(trader.trader_id)
    history = (await handle.fetch_history()).to_json()
    assert number not in history and order["id"] in history


async def test_profit_account_gets_fee_minus_reward(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, payin_fee_bps=500)
    trader = await make_trader(api, ctx, currency)
    order = (
        await api.post(
            "/api/gateway/payins", json=payin_body(currency, "1000.00"), headers=store.headers
        )
    ).json()
    await api.post(f"/api/trader/orders/{order['id']}/confirm", headers=trader.headers)
    with Session(ctx.engine) as session:
        profit = session.exec(
            select(LedgerAccount).where(
                LedgerAccount.kind == AccountKind.platform_profit,
                LedgerAccount.currency == currency,
            )
        ).one()
        assert profit.balance_minor == 5_000 - 1_000
