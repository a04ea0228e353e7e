"""A pay-out for a store and a trader who settle in USDT: the store is held in USDT at the
rate fixed at creation, the trader's side is fixed when it takes the order, settlement
balances per currency, and the signed callback carries the settlement rate and amount."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid

import httpx
import pytest

from core.context import ServiceContext
from models.ledger import AccountKind
from tests.money.fx_kit import USDT, account, posting_sums, put_rate
from tests.money.test_fx_settlement import to_usdt
from tests.processing.conftest import CallbackReceiver, new_currency, verify_signature
from tests.processing.payout_kit import (
    merchant_headers,
    payout_store,
    payout_trader,
    take_and_pay,
    wait_payout,
)

pytestmark = pytest.mark.usefixtures("no_platform_overrides")


async def test_a_usdt_payout_holds_and_settles_in_usdt(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    receiver: CallbackReceiver,
) -> None:
    currency = new_currency(ctx)
    assert (await put_rate(api, admin_headers, USDT, currency, "80", "81")).is_success
    store = payout_store(ctx, currency, settlement_currency=USDT, callback_url=receiver.url)
    trader = await payout_trader(api, ctx, currency, settlement_currency=USDT)
    funded = await api.post(
        f"/api/admin/stores/{store.store_id}/deposit",
        json={"amount": "100.000000", "currency": USDT, "reference": uuid.uuid4().hex},
        headers=admin_headers,
    )
    assert funded.status_code == 200, funded.text

    created = await api.post(
        "/api/gateway/payouts",
        json={
            "amount": "1000.00",
            "currency": currency,
            "merchant_order_id": uuid.uuid4().hex,
            "recipient": {"card_number": "4111 1111 1111 1111"},
        },
        headers=store.headers,
    )
    assert created.status_code == 201, created.text
    payout = created.json()
    # The store is debited USDT: the buy price (no spread set).
    assert payout["settlement"] == {"currency": USDT, "rate": "80", "amount": "12.500000"}
    held = to_usdt(100_000 + 2_000, "80")  # amount + 2 % fee
    await wait_payout(api, store, payout["id"], "created")
    for _ in range(50):
        if account(ctx, AccountKind.store, store.store_id, USDT)[1]:
            break
        await asyncio.sleep(0.1)
    assert account(ctx, AccountKind.store, store.store_id, USDT) == (100_000_000, held)

    await take_and_pay(api, trader, payout["id"])
    await wait_payout(api, store, payout["id"], "completed")

    # The trader is credited USDT: the sell price.
    trader_usdt = to_usdt(100_000, "81") + to_usdt(1_000, "81")
    assert account(ctx, AccountKind.store, store.store_id, USDT) == (100_000_000 - held, 0)
    assert account(ctx, AccountKind.trader, trader.trader_id, USDT) == (trader_usdt, 0)
    assert account(ctx, AccountKind.platform_profit, None, currency) == (1_000, 0)
    assert posting_sums(ctx, uuid.UUID(payout["id"])) == {"payout_settle": {currency: 0, USDT: 0}}
    fx_usdt = account(ctx, AccountKind.platform_fx, None, USDT, currency)
    assert fx_usdt == (held - trader_usdt, 0)

    # The merchant's statement in USDT names the rate of the converted line; the CSV the
    # settlement columns.
    merchant = await merchant_headers(api, ctx, store)
    statement = await api.get(
        f"/api/merchant/stores/{store.store_id}/statement",
        params={"currency": USDT},
        headers=merchant,
    )
    lines = [(line["posting_kind"], line["rate"]) for line in statement.json()["lines"]]
    assert lines == [("store_deposit", None), ("payout_settle", "80")]
    csv_text = (await api.get("/api/merchant/orders.csv?kind=payout", headers=merchant)).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["settlement_currency"], r["settlement_rate"]) for r in rows] == [(USDT, "80")]

    await asyncio.to_thread(receiver.event.wait, 10)
    events = [verify_signature(store.secret, r) for r in receiver.received]
    completed = next(e for e in events if e["type"] == "payout.completed")
    assert completed["data"]["settlement"] == payout["settlement"]
