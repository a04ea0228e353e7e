"""A merchant reconciles its money from the API alone, per currency: opening balance +
pay-ins − pay-outs − withdrawals − fees + deposits = closing balance, where every figure on
the right comes from the merchant's own lists (orders, their CSV, withdrawals, deposits) and
the closing balance from the statement and the balances endpoint. Nothing here reads the
ledger or calls our ledger code: it is what a merchant's accountant would do."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import httpx
import pytest

from core.context import ServiceContext
from tests.money.funds_kit import PNG, merchant_headers, staff, withdrawal_body
from tests.processing.conftest import (
    StoreKit,
    TraderKit,
    make_store,
    make_trader,
    new_currency,
    payin_body,
)
from tests.processing.payout_kit import create_payout, payout_store, payout_trader, wait_payout

pytestmark = pytest.mark.usefixtures("worker")


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


async def _deposit(
    api: httpx.AsyncClient,
    merchant: dict[str, str],
    admin: dict[str, str],
    store: StoreKit,
    amount: str,
) -> None:
    form = {
        "amount": amount,
        "currency": store.currency,
        "reference": f"top-up {amount}",
        "store_id": str(store.store_id),
        "tx_hash": "0x" + "cd" * 32,
    }
    made = await _ok(await api.post("/api/merchant/deposits", data=form, headers=merchant), 201)
    credited = await _ok(await api.post(f"/api/admin/deposits/{made['id']}/approve", headers=admin))
    assert credited["status"] == "credited", credited


async def _payin(api: httpx.AsyncClient, store: StoreKit, trader: TraderKit, amount: str) -> None:
    sent = payin_body(store.currency, amount)
    order = await _ok(await api.post("/api/gateway/payins", json=sent, headers=store.headers), 201)
    path = f"/api/trader/orders/{order['id']}/confirm"
    assert (await _ok(await api.post(path, headers=trader.headers)))["status"] == "completed"


async def _payout(api: httpx.AsyncClient, store: StoreKit, trader: TraderKit, amount: str) -> None:
    payout = await create_payout(api, store, amount)
    url = f"/api/trader/payouts/{payout['id']}"
    await _ok(await api.post(f"{url}/take", headers=trader.headers))
    proof = {"proof": ("proof.png", PNG, "image/png")}
    await _ok(await api.post(f"{url}/paid", files=proof, headers=trader.headers))
    await wait_payout(api, store, payout["id"], "completed")


async def _withdraw(
    api: httpx.AsyncClient,
    merchant: dict[str, str],
    admin: dict[str, str],
    store: StoreKit,
    amount: str,
    finish: str,
) -> None:
    sent = withdrawal_body(store.currency, amount) | {"store_id": str(store.store_id)}
    made = await _ok(await api.post("/api/merchant/withdrawals", json=sent, headers=merchant), 201)
    url = f"/api/admin/withdrawals/{made['id']}"
    if finish == "cancelled":
        cancel = f"/api/merchant/withdrawals/{made['id']}/cancel"
        assert (await _ok(await api.post(cancel, headers=merchant)))["status"] == "cancelled"
        return
    if finish == "requested":  # held, not yet paid: it is not in the balance
        return
    await _ok(await api.post(f"{url}/approve", headers=admin))
    paid = await _ok(await api.post(f"{url}/paid", data={"tx_hash": "ef" * 32}, headers=admin))
    assert paid["status"] == "completed", paid


async def _all(api: httpx.AsyncClient, headers: dict[str, str], path: str) -> list[dict[str, Any]]:
    """Every item of an offset-paged list."""
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = await _ok(await api.get(path, params={"offset": offset}, headers=headers))
        items += page["items"]
        offset = page.get("next_offset")
    return items


async def _orders(api: httpx.AsyncClient, headers: dict[str, str], kind: str) -> list[dict]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"kind": kind, "status": "completed"} | ({"cursor": cursor} if cursor else {})
        page = await _ok(await api.get("/api/merchant/orders", params=params, headers=headers))
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            return items


async def _statement(
    api: httpx.AsyncClient, headers: dict[str, str], store: StoreKit
) -> tuple[Decimal, Decimal, list[dict[str, Any]]]:
    """(opening balance, closing balance, lines) of the store's statement, every page."""
    path = f"/api/merchant/stores/{store.store_id}/statement"
    lines: list[dict[str, Any]] = []
    cursor: str | None = None
    opening: Decimal | None = None
    while True:
        params = {"currency": store.currency} | ({"cursor": cursor} if cursor else {})
        page = await _ok(await api.get(path, params=params, headers=headers))
        opening = Decimal(page["opening_balance"]) if opening is None else opening
        lines += page["lines"]
        if (cursor := page["next_cursor"]) is None:
            closing = Decimal(lines[-1]["balance_after"]) if lines else opening
            return opening, closing, lines


def _paid(order: dict[str, Any]) -> Decimal:
    """What moved: a dispute resolved with another amount says so in `actual_amount`."""
    return Decimal(order.get("actual_amount") or order["amount"])


def _sum(rows: list[dict[str, Any]], *fields: str) -> Decimal:
    return sum((Decimal(row[f]) for row in rows for f in fields if row.get(f)), Decimal(0))


async def test_the_merchant_reconciles_each_currency_from_the_api_alone(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    _, admin = await staff(api, ctx)
    # Two stores in two currencies, one with pay-outs: the reconciliation holds for each.
    cases = (
        (payout_store(ctx, new_currency(ctx)), ("5000.00", "1500.00", "730.55", "1000.00")),
        (make_store(ctx, new_currency(ctx)), ("2000.00", "999.99", "120.01", None)),
    )
    for store, (deposit, payin_a, payin_b, payout) in cases:
        merchant = await merchant_headers(api, ctx, store)
        payer = await make_trader(api, ctx, store.currency)
        await _deposit(api, merchant, admin, store, deposit)
        await _payin(api, store, payer, payin_a)
        await _payin(api, store, payer, payin_b)
        if payout is not None:
            await _payout(api, store, await payout_trader(api, ctx, store.currency), payout)
        await _withdraw(api, merchant, admin, store, "400.00", "completed")
        await _withdraw(api, merchant, admin, store, "50.00", "cancelled")
        await _withdraw(api, merchant, admin, store, "25.00", "requested")
        await _reconcile(api, merchant, store)


async def _reconcile(api: httpx.AsyncClient, headers: dict[str, str], store: StoreKit) -> None:
    mine = {"store_id": str(store.store_id)}
    payins = [o for o in await _orders(api, headers, "payin") if o.items() >= mine.items()]
    payouts = [o for o in await _orders(api, headers, "payout") if o.items() >= mine.items()]
    withdrawals = await _all(api, headers, "/api/merchant/withdrawals")
    deposits = await _all(api, headers, "/api/merchant/deposits")
    assert {row["owner_id"] for row in withdrawals + deposits} == {mine["store_id"]}
    completed = [w for w in withdrawals if w["status"] == "completed"]
    credited = [d for d in deposits if d["status"] == "credited"]
    assert {o["currency"] for o in payins + payouts + completed + credited} == {store.currency}

    opening, closing, lines = await _statement(api, headers, store)
    expected = (
        opening
        + sum((_paid(o) for o in payins), Decimal(0))
        - _sum(payouts, "amount")
        - _sum(completed, "amount")
        - _sum(payins + payouts + completed, "fee")
        + _sum(credited, "amount")
    )
    assert closing == expected, (closing, expected, lines)
    balances = await _ok_list(await api.get("/api/merchant/balances", headers=headers))
    shown = next(b for b in balances if b["store_id"] == mine["store_id"])
    assert Decimal(shown["balance"]) == closing
    # The open withdrawal is held, not spent: available = balance − its amount + fee.
    held = _sum([w for w in withdrawals if w["status"] == "requested"], "amount", "fee")
    assert Decimal(shown["held"]) == held and held > 0

    # The CSV says the same of the orders as the lists do.
    for kind, listed in (("payin", payins), ("payout", payouts)):
        params = {"kind": kind, "status": "completed", "store_id": mine["store_id"]}
        exported = await api.get("/api/merchant/orders.csv", params=params, headers=headers)
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert len(rows) == len(listed)
        assert _sum(rows, "amount") == _sum(listed, "amount")
        assert _sum(rows, "fee") == _sum(listed, "fee")


async def _ok_list(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json())
