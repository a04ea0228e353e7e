"""50 concurrent pay-ins against a few limited requisites: no capacity is assigned twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from functools import partial

import httpx
from sqlmodel import Session, col, func, select

from contracts.processing import OPEN_STATUSES
from core.context import ServiceContext
from models.ledger import Entry, LedgerAccount
from models.orders import Order
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.processing.payout_kit import as_client


def assert_ledger_consistent(ctx: ServiceContext) -> None:
    with Session(ctx.engine) as session:
        assert session.exec(select(func.coalesce(func.sum(Entry.amount_minor), 0))).one() == 0
        for account in session.exec(select(LedgerAccount)).all():
            posted = session.exec(
                select(func.coalesce(func.sum(Entry.amount_minor), 0)).where(
                    Entry.account_id == account.id
                )
            ).one()
            assert posted == account.balance_minor
            assert account.held_minor >= 0
            if not account.allow_negative:
                assert account.balance_minor - account.held_minor >= 0


async def test_fifty_concurrent_payins_never_overbook(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, amount_shift_step_minor=100, amount_shift_max_minor=1_000)
    by_open = await make_trader(api, ctx, currency, max_open_orders=5)
    by_balance = await make_trader(api, ctx, currency, balance_minor=610_000, max_open_orders=50)
    by_window = await make_trader(
        api, ctx, currency, window_turnover_limit_minor=460_000, max_open_orders=50
    )

    async def create(i: int) -> httpx.Response:
        # Distinct amounts: only the requisite row lock (not the unique-amount index) can
        # keep concurrent matches from overbooking.
        body = payin_body(currency, f"{1500 + i * 0.5:.2f}")
        key = {"Idempotency-Key": body["merchant_order_id"]}
        # 503 order_not_ready on a loaded machine: sent again, as a client does.
        return await as_client(
            partial(api.post, "/api/gateway/payins", json=body, headers=store.headers | key)
        )

    responses = await asyncio.gather(*(create(i) for i in range(50)))
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 12, 422: 38}, [r.text for r in responses if r.status_code >= 500][:3]

    with Session(ctx.engine) as session:
        open_orders = session.exec(
            select(Order).where(
                Order.store_id == store.store_id, col(Order.status).in_(OPEN_STATUSES)
            )
        ).all()
        per_trader = Counter(o.trader_id for o in open_orders)
        assert per_trader == {by_open.trader_id: 5, by_balance.trader_id: 4, by_window.trader_id: 3}
        pairs = [(o.requisite_id, o.amount_minor) for o in open_orders]
        assert len(set(pairs)) == len(pairs)
        assert all(o.amount_minor == o.requested_amount_minor for o in open_orders)
    assert_ledger_consistent(ctx)

    traders = {t.trader_id: t for t in (by_open, by_balance, by_window)}
    confirms = [
        api.post(f"/api/trader/orders/{o.id}/confirm", headers=traders[o.trader_id].headers)  # type: ignore[index]
        for o in open_orders
    ]
    assert {r.status_code for r in await asyncio.gather(*confirms)} == {200}
    assert_ledger_consistent(ctx)
