"""The merchant cabinet: orders in pages and as CSV, balances, the statement with a running
balance, deliveries — and nothing of another merchant's."""

from __future__ import annotations

import csv
import io

import httpx

from core.context import ServiceContext
from models.users import Role
from tests.factories import actor
from tests.processing.conftest import make_trader, new_currency, payin_body


async def test_orders_balances_and_statement_of_one_merchant(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    for _ in range(2):
        await make_trader(api, ctx, currency)
    merchant = await actor(api, ctx.engine, Role.merchant)
    store = (
        await api.post(
            "/api/merchant/stores",
            json={"name": "Cab", "currency": currency},
            headers=merchant.headers,
        )
    ).json()
    fee = await api.patch(
        f"/api/admin/stores/{store['id']}/processing",
        json={"payin_fee_bps": 200},
        headers=admin_headers,
    )
    assert fee.status_code == 200, fee.text
    key = {"X-API-Key": store["api_key"]}
    orders = []
    for amount in ("1000.00", "2000.00", "3000.00"):
        created = await api.post(
            "/api/gateway/payins", json=payin_body(currency, amount), headers=key
        )
        assert created.status_code == 201, created.text
        orders.append(created.json())
    confirmed = await api.post(
        f"/api/admin/orders/{orders[1]['id']}/confirm", headers=admin_headers
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "completed"

    first = (await api.get("/api/merchant/orders?limit=2", headers=merchant.headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (
        await api.get(
            "/api/merchant/orders",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=merchant.headers,
        )
    ).json()
    assert rest["next_cursor"] is None
    seen = [o["id"] for o in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(o["id"] for o in orders)  # no row skipped or repeated
    assert all("*" in o["requisite"]["number"] for o in first["items"])  # masked here
    done = await api.get("/api/merchant/orders?status=completed", headers=merchant.headers)
    assert [o["id"] for o in done.json()["items"]] == [orders[1]["id"]]
    # The list names each order's store and the merchant's fee; who completed it too.
    [completed] = done.json()["items"]
    assert completed["store_id"] == store["id"]
    assert (completed["fee"], completed["confirmed_by"]) == ("40.00", "admin")
    read = await api.get(f"/api/gateway/payins/{orders[1]['id']}", headers=key)
    assert read.json()["confirmed_by"] == "admin"
    big = await api.get("/api/merchant/orders?amount_min_minor=250000", headers=merchant.headers)
    assert [o["id"] for o in big.json()["items"]] == [orders[2]["id"]]

    exported = await api.get("/api/merchant/orders.csv", headers=merchant.headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["id"] for r in rows) == sorted(seen)
    row = next(r for r in rows if r["id"] == orders[1]["id"])
    assert row == row | {"kind": "payin", "store_id": store["id"], "fee": "40.00"}
    assert (row["actual_amount"], row["confirmed_by"], row["status"]) == ("", "admin", "completed")

    [balance] = (await api.get("/api/merchant/balances", headers=merchant.headers)).json()
    assert balance == balance | {
        "store_id": store["id"],
        "currency": currency,
        "balance": "1960.00",
    }
    statement = (
        await api.get(
            f"/api/merchant/stores/{store['id']}/statement",
            params={"currency": currency},
            headers=merchant.headers,
        )
    ).json()
    assert statement["lines"][-1]["balance_after"] == balance["balance"]
    assert {line["order_id"] for line in statement["lines"]} == {orders[1]["id"]}

    other = await actor(api, ctx.engine, Role.merchant)
    assert (await api.get("/api/merchant/orders", headers=other.headers)).json()["items"] == []
    assert (await api.get("/api/merchant/balances", headers=other.headers)).json() == []
    foreign = await api.get(f"/api/merchant/stores/{store['id']}/statement", headers=other.headers)
    assert foreign.status_code == 404
    filtered = await api.get(f"/api/merchant/orders?store_id={store['id']}", headers=other.headers)
    assert filtered.status_code == 404
    bad = await api.get("/api/merchant/orders?cursor=not-a-cursor", headers=merchant.headers)
    # The cursor's documented shape is the whole rule: anything else is refused by it.
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
