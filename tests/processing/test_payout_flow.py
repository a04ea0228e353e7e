"""Pay-outs end to end on real services: create (held) → take → paid with proof →
completed, with the ledger legs the spec sets and a callback the official package verifies."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
from sqlmodel import Session, select
from temporalio.client import Client

from core.context import ServiceContext
from models.ledger import Hold, HoldStatus, Posting
from models.orders import OrderEvent, Receipt
from tests.processing.conftest import (
    CallbackReceiver,
    make_store,
    make_trader,
    new_currency,
    payin_body,
    verify_signature,
)
from tests.processing.payout_kit import (
    CARD,
    PNG,
    balance,
    fund_store,
    ledger_sum,
    merchant_headers,
    payout_body,
    payout_store,
    payout_trader,
    wait_payout,
)


async def test_payout_create_take_paid_completed(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    receiver: CallbackReceiver,
    temporal_client: Client,
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, callback_url=receiver.url)
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)

    created = await api.post(
        "/api/gateway/payouts",
        json=payout_body(currency, "1000.00"),
        headers={**store.headers, "Idempotency-Key": "po-1"},
    )
    assert created.status_code == 201, created.text
    payout = created.json()
    assert payout["status"] == "created"
    assert (payout["amount"], payout["fee"]) == ("1000.00", "20.00")
    assert payout["recipient"] == {"kind": "card", "number": "****1111", "bank_code": None}
    # amount + fee are held on the store's balance at once
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 102_000)

    same = await api.post(
        "/api/gateway/payouts",
        json={**payout_body(currency, "1000.00"), "merchant_order_id": payout["merchant_order_id"]},
        headers={**store.headers, "Idempotency-Key": "po-1"},
    )
    assert (same.status_code, same.json()["id"]) == (201, payout["id"])
    assert same.headers["Idempotent-Replayed"] == "true"
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 102_000)  # held once
    for changed in (
        {"merchant_order_id": "other"},
        {
            "merchant_order_id": payout["merchant_order_id"],
            "recipient": {"card_number": "5555555555554444"},
        },
    ):
        replay = await api.post(
            "/api/gateway/payouts",
            json={**payout_body(currency, "1000.00"), **changed},
            headers={**store.headers, "Idempotency-Key": "po-1"},
        )
        assert replay.status_code == 409, changed
        assert replay.json()["error"]["code"] == "idempotency_key_reused"

    offers = (await api.get("/api/trader/payouts/available", headers=trader.headers)).json()
    offer = next(o for o in offers if o["id"] == payout["id"])
    assert offer["recipient"]["number"] == "****1111"
    assert offer["reward"] == "10.00"

    taken = await api.post(f"/api/trader/payouts/{payout['id']}/take", headers=trader.headers)
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "assigned"
    # the trader who took it must pay it: the number in full, for them only
    assert taken.json()["recipient"]["number"] == CARD.replace(" ", "")
    merchant_view = await api.get(f"/api/gateway/payouts/{payout['id']}", headers=store.headers)
    assert merchant_view.json()["recipient"]["number"] == "****1111"
    mine = (await api.get("/api/trader/payouts", headers=trader.headers)).json()
    assert [p["id"] for p in mine] == [payout["id"]]

    paid = await api.post(
        f"/api/trader/payouts/{payout['id']}/paid",
        files={"proof": ("proof.png", PNG, "image/png")},
        headers=trader.headers,
    )
    assert paid.status_code == 200, paid.text
    done = await wait_payout(api, store, payout["id"], "completed")
    assert done["finished_at"] is not None

    # store −(amount + fee), trader +(amount + reward), platform +(fee − reward)
    assert balance(ctx, store.store_id, "store", currency) == (500_000 - 102_000, 0)
    assert balance(ctx, trader.trader_id, "trader", currency) == (101_000, 0)
    assert balance(ctx, None, "platform_profit", currency) == (1_000, 0)
    assert ledger_sum(ctx, currency) == 0
    order_id = uuid.UUID(payout["id"])
    with Session(ctx.engine) as session:
        postings = session.exec(select(Posting).where(Posting.order_id == order_id)).all()
        assert [p.idempotency_key for p in postings] == [f"payout:{order_id}:settle"]
        hold = session.exec(select(Hold).where(Hold.order_id == order_id)).one()
        assert hold.status == HoldStatus.posted
        proof = session.exec(select(Receipt).where(Receipt.order_id == order_id)).one()
        assert proof.uploaded_by_type == "trader"
        assert ctx.storage.get(proof.s3_key) == PNG
        events = session.exec(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq)  # type: ignore[arg-type]
        ).all()
        assert [e.to_status for e in events] == ["created", "assigned", "paid", "completed"]

    await asyncio.to_thread(receiver.event.wait, 10)
    events_sent = [verify_signature(store.secret, r) for r in receiver.received]
    completed = next(e for e in events_sent if e["type"] == "payout.completed")
    assert completed["data"]["order_id"] == payout["id"]
    assert completed["data"]["kind"] == "payout"
    assert CARD.replace(" ", "") not in json.dumps(events_sent)
    deliveries = await api.get(
        f"/api/gateway/payouts/{payout['id']}/callbacks", headers=store.headers
    )
    assert [d["event_type"] for d in deliveries.json()] == ["payout.completed"]

    merchant = await merchant_headers(api, ctx, store)
    payins_only = (await api.get("/api/merchant/orders", headers=merchant)).json()
    assert payins_only["items"] == []
    listed = (await api.get("/api/merchant/orders?kind=payout", headers=merchant)).json()
    assert [(o["id"], o["kind"], o["status"]) for o in listed["items"]] == [
        (payout["id"], "payout", "completed")
    ]
    csv = await api.get("/api/merchant/orders.csv?kind=payout", headers=merchant)
    assert csv.status_code == 200 and payout["id"] in csv.text

    # ops filter both kinds in the Temporal UI
    query = f"OrderKind = 'payout' AND StoreId = '{store.store_id}' AND OrderStatus = 'completed'"
    for _ in range(100):
        found = [w.id async for w in temporal_client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [f"payout-{payout['id']}"]

    by_id = await api.get(
        f"/api/gateway/payouts/by-merchant-order/{payout['merchant_order_id']}",
        headers=store.headers,
    )
    assert by_id.json()["id"] == payout["id"]
    # a pay-out is not a pay-in: the pay-in routes do not find it
    wrong_kind = await api.get(f"/api/gateway/payins/{payout['id']}", headers=store.headers)
    assert wrong_kind.status_code == 404


async def test_both_kinds_filterable_by_search_attributes(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, temporal_client: Client
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    query = f"OrderKind = 'payin' AND StoreId = '{store.store_id}'"
    for _ in range(100):
        found = [w.id async for w in temporal_client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [f"payin-{order['id']}"]
