"""A pay-in in a fiat for a store and a trader who both settle in USDT: the rates are fixed
at creation (with the platform's spread), the trader is held in USDT, settlement converts
each party's legs at the fixed rate even after the rate moved, every posting sums to zero
per currency, and the platform's FX accounts hold the other side (rounding included). A
create with no fresh rate is refused and leaves nothing behind."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
from sqlmodel import Session, select

from core.context import ServiceContext
from models.ledger import AccountKind
from models.orders import Order
from tests.connect.helpers import wait_until
from tests.money.fx_kit import USDT, account, posting_sums, put_rate
from tests.processing.conftest import TraderKit, make_store, make_trader, new_currency, payin_body

pytestmark = pytest.mark.usefixtures("no_platform_overrides")


def to_usdt(amount_minor: int, rate: str) -> int:
    """Fiat minor units (2 places) to USDT minor units (6 places), half-up."""
    value = Decimal(amount_minor).scaleb(4) / Decimal(rate)
    return int(value.to_integral_value(ROUND_HALF_UP))


async def usdt_parties(
    api: httpx.AsyncClient, ctx: ServiceContext, admin: dict[str, str], currency: str
) -> tuple[uuid.UUID, dict[str, str], TraderKit]:
    """A store and a trader (one requisite in `currency`, 1000 USDT) settling in USDT."""
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, balance_minor=0)
    for path in (f"stores/{store.store_id}", f"traders/{trader.trader_id}"):
        changed = await api.put(
            f"/api/admin/{path}/settlement-currency", json={"currency": USDT}, headers=admin
        )
        assert changed.status_code == 200 and changed.json()["settlement_currency"] == USDT
    funded = await api.post(
        f"/api/admin/traders/{trader.trader_id}/deposit",
        json={"amount": "1000.000000", "currency": USDT, "reference": "fx"},
        headers=admin,
    )
    assert funded.status_code == 200, funded.text
    return store.store_id, store.headers, trader


async def test_a_usdt_payin_settles_at_the_rate_fixed_at_creation(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    spread = await api.put(
        "/api/admin/settings/fx_spread_bps", json={"value": 50}, headers=admin_headers
    )
    assert spread.status_code == 200, spread.text
    assert (await put_rate(api, admin_headers, USDT, currency, "95.10", "95.60")).is_success
    store_id, key, trader = await usdt_parties(api, ctx, admin_headers, currency)
    trader_id = trader.trader_id

    created = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "1234.57"), headers=key
    )
    assert created.status_code == 201, created.text
    payin = created.json()
    # The store is credited USDT: the sell price, 0.5 % against it; the trader is debited
    # USDT: the buy price, 0.5 % against it.
    store_rate, trader_rate = "96.078", "94.6245"
    amount = 123_457
    assert payin["settlement"] == {
        "currency": USDT,
        "rate": store_rate,
        "amount": str(Decimal(to_usdt(amount, store_rate)).scaleb(-6)),
    }
    held = to_usdt(amount, trader_rate)
    assert account(ctx, AccountKind.trader, trader_id, USDT) == (1_000_000_000, held)
    # The trader's desk shows the trader's side.
    desk = (await api.get("/api/trader/orders", headers=trader.headers)).json()
    assert [o["settlement"] for o in desk] == [
        {"currency": USDT, "rate": trader_rate, "amount": str(Decimal(held).scaleb(-6))}
    ]

    # The market moves while the order is open: the order keeps its rates.
    assert (await put_rate(api, admin_headers, USDT, currency, "50", "51")).is_success
    done = await api.post(f"/api/admin/orders/{payin['id']}/confirm", headers=admin_headers)
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text

    fee, reward = (amount * 300 + 5_000) // 10_000, (amount * 100 + 5_000) // 10_000
    store_usdt = to_usdt(amount - fee, store_rate)
    trader_usdt = to_usdt(amount, trader_rate) - to_usdt(reward, trader_rate)
    assert account(ctx, AccountKind.store, store_id, USDT) == (store_usdt, 0)
    assert account(ctx, AccountKind.trader, trader_id, USDT) == (1_000_000_000 - trader_usdt, 0)
    # Nothing of either party is kept in the fiat.
    assert account(ctx, AccountKind.store, store_id, currency) == (0, 0)
    assert account(ctx, AccountKind.trader, trader_id, currency) == (0, 0)
    # The platform's profit stays in the fiat; its FX position takes the other sides.
    assert account(ctx, AccountKind.platform_profit, None, currency) == (fee - reward, 0)
    fx_fiat = account(ctx, AccountKind.platform_fx, None, currency, USDT)
    fx_usdt = account(ctx, AccountKind.platform_fx, None, USDT, currency)
    assert fx_fiat == (reward - fee, 0)
    assert fx_usdt == (trader_usdt - store_usdt, 0)
    sums = posting_sums(ctx, uuid.UUID(payin["id"]))
    assert sums == {"payin_settle": {currency: 0, USDT: 0}}

    read = (await api.get(f"/api/gateway/payins/{payin['id']}", headers=key)).json()
    assert read["settlement"]["rate"] == store_rate
    with Session(ctx.engine) as session:
        order = session.get(Order, uuid.UUID(payin["id"]))
        assert order is not None
        assert (order.trader_currency, order.trader_rate) == (USDT, trader_rate)
        assert order.trader_amount_minor == held


async def _stale(api: httpx.AsyncClient, quote: str) -> bool:
    listed = (await api.get("/api/reference/rates")).json()
    return any(r["quote"] == quote and r["stale"] for r in listed)


async def test_no_fresh_rate_refuses_the_create_and_holds_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store_id, key, trader = await usdt_parties(api, ctx, admin_headers, currency)
    trader_id = trader.trader_id
    # No rate at all, then one that is already too old.
    refusals = [await api.post("/api/gateway/payins", json=payin_body(currency), headers=key)]
    assert (await put_rate(api, admin_headers, USDT, currency, "90", "91", max_age_s=1)).is_success
    # Until the platform itself calls the rate stale (the public list's `stale` flag).
    await wait_until(lambda: _stale(api, currency), what="the rate to go stale")
    body = payin_body(currency)
    refusals.append(await api.post("/api/gateway/payins", json=body, headers=key))
    for refused in refusals:
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "rate_unavailable"
        assert int(refused.headers["Retry-After"]) > 0
    with Session(ctx.engine) as session:
        assert session.exec(select(Order).where(Order.store_id == store_id)).first() is None
    assert account(ctx, AccountKind.trader, trader_id, USDT) == (1_000_000_000, 0)

    # A fresh rate: the same request (same merchant order id) goes through.
    assert (await put_rate(api, admin_headers, USDT, currency, "90", "91")).is_success
    retried = await api.post("/api/gateway/payins", json=body, headers=key)
    assert retried.status_code == 201, retried.text
    assert account(ctx, AccountKind.trader, trader_id, USDT)[1] > 0


async def test_a_dispute_settled_with_another_amount_corrects_in_usdt(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    assert (await put_rate(api, admin_headers, USDT, currency, "70", "70")).is_success
    store_id, key, trader = await usdt_parties(api, ctx, admin_headers, currency)
    trader_id = trader.trader_id
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency, "1500.00"), headers=key)
    ).json()
    await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=key)
    disputed = await api.post(
        f"/api/gateway/payins/{order['id']}/dispute", data={"reason": "paid less"}, headers=key
    )
    assert disputed.status_code == 200, disputed.text
    # The rate moves; the correction still converts at the order's rate.
    assert (await put_rate(api, admin_headers, USDT, currency, "10", "10")).is_success
    resolved = await api.post(
        f"/api/admin/orders/{order['id']}/resolve",
        json={"outcome": "completed", "actual_amount": "1000.00", "reason": "statement"},
        headers=admin_headers,
    )
    assert resolved.status_code == 200, resolved.text

    sums = posting_sums(ctx, uuid.UUID(order["id"]))
    assert sums == {"payin_settle": {currency: 0, USDT: 0}, "correction": {currency: 0, USDT: 0}}
    # Settled at 1500.00 (fee 45.00, reward 15.00), corrected to 1000.00 (30.00, 10.00):
    # the correction converts each party's net difference.
    store_usdt = to_usdt(145_500, "70") - to_usdt(145_500 - 97_000, "70")
    trader_usdt = -to_usdt(150_000, "70") + to_usdt(1_500, "70")
    trader_usdt += to_usdt((150_000 - 1_500) - (100_000 - 1_000), "70")
    assert account(ctx, AccountKind.store, store_id, USDT) == (store_usdt, 0)
    assert account(ctx, AccountKind.trader, trader_id, USDT) == (1_000_000_000 + trader_usdt, 0)
    assert account(ctx, AccountKind.platform_profit, None, currency) == (3_000 - 1_000, 0)
