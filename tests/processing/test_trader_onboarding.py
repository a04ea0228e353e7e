"""A trader's own path to liquidity: add requisite → admin approves and deposits → online."""

from __future__ import annotations

import httpx

from core.context import ServiceContext
from models.users import Role
from tests.factories import create_user, login
from tests.processing.conftest import make_store, new_currency, payin_body


async def test_requisite_approval_deposit_and_online_make_orders_match(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await login(api, create_user(ctx.engine, Role.trader).email)
    requisite = await api.post(
        "/api/trader/requisites",
        json={
            "number": "+7 900 123 45 67",
            "holder_name": "Oleg Sidorov",
            "bank_code": "tbank",
            "payment_method": "sbp",
            "currency": currency,
        },
        headers=trader,
    )
    assert requisite.status_code == 201, requisite.text
    requisite_id, trader_id = requisite.json()["id"], requisite.json()["trader_id"]
    online = await api.post("/api/trader/online", headers=trader)
    assert online.json()["is_online"] is True

    pending = await api.post(
        "/api/gateway/payins", json=payin_body(currency), headers=store.headers
    )
    assert pending.status_code == 422  # not approved yet, and no liquidity

    support = await login(api, create_user(ctx.engine, Role.support).email)
    refused = await api.post(f"/api/admin/requisites/{requisite_id}/approve", headers=support)
    assert refused.status_code == 403
    approved = await api.post(
        f"/api/admin/requisites/{requisite_id}/approve", headers=admin_headers
    )
    assert approved.json()["status"] == "approved"
    deposit = {"amount": "5000.00", "currency": currency, "reference": "wire-1"}
    for _ in range(2):  # the reference makes a retried deposit a no-op
        funded = await api.post(
            f"/api/admin/traders/{trader_id}/deposit", json=deposit, headers=admin_headers
        )
        assert funded.json()["available"] == "5000.00"

    matched = await api.post(
        "/api/gateway/payins", json=payin_body(currency), headers=store.headers
    )
    assert matched.status_code == 201, matched.text
    assert matched.json()["requisite"]["number"] == "79001234567"
    assert matched.json()["requisite"]["payment_method"] == "sbp"
    balances = (await api.get("/api/trader/balances", headers=trader)).json()
    assert balances == [
        {"currency": currency, "balance": "5000.00", "held": "1500.00", "available": "3500.00"}
    ]
    listed = await api.get("/api/trader/requisites", headers=trader)
    assert listed.json()[0]["number_masked"] == "****4567"
    assert "79001234567" not in listed.text
