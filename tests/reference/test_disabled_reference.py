"""A disabled currency, bank or payment method is refused for every new store, requisite and
order with its own code, while the requisites and orders that already name it keep working;
a new requisite pairs only a method its bank offers."""

from __future__ import annotations

import secrets
import string
from typing import Any

import httpx
from sqlmodel import Session

from core.context import ServiceContext
from models.traders import Requisite
from models.users import Role
from tests.factories import create_user, login
from tests.processing.conftest import make_store, make_trader, payin_body
from tests.reference.kit import ADMIN, created, currency_code, error, lower_code


def requisite(bank: str, method: str, currency: str) -> dict[str, Any]:
    return {
        "number": "2200" + "".join(secrets.choice(string.digits) for _ in range(12)),
        "holder_name": "Ivan Petrov",
        "bank_code": bank,
        "payment_method": method,
        "currency": currency,
    }


async def _disable(api: httpx.AsyncClient, headers: dict[str, str], path: str) -> None:
    answer = await api.patch(f"{ADMIN}/{path}", json={"is_active": False}, headers=headers)
    assert answer.status_code == 200 and answer.json()["is_active"] is False, answer.text


async def test_disabled_codes_refuse_new_uses_and_existing_ones_keep_working(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency, bank, method = currency_code(), lower_code("zq"), lower_code("m")
    await created(api, admin_headers, "currencies", {"code": currency, "name": "Coin"})
    await created(api, admin_headers, "banks", {"code": bank, "name": "Bank"})
    await created(api, admin_headers, "payment-methods", {"code": method, "name": "Method"})
    offer = await api.put(f"{ADMIN}/banks/{bank}/payment-methods/{method}", headers=admin_headers)
    assert offer.status_code == 200, offer.text
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, balance_minor=1_000_000)
    with Session(ctx.engine) as session:
        row = session.get(Requisite, trader.requisite_ids[0])
        assert row is not None
        row.bank_code, row.payment_method = bank, method
        session.add(row)
        session.commit()
    await _disable(api, admin_headers, f"banks/{bank}")
    await _disable(api, admin_headers, f"payment-methods/{method}")

    # New uses of the disabled bank and method are refused.
    for body, code in (
        (requisite(bank, "card", currency), "bank_disabled"),
        (requisite("sber", method, currency), "payment_method_disabled"),
    ):
        answer = await api.post("/api/trader/requisites", json=body, headers=trader.headers)
        assert error(answer, 422)["code"] == code
    for extra, code in (
        ({"bank_code": bank}, "bank_disabled"),
        ({"payment_method": method}, "payment_method_disabled"),
    ):
        answer = await api.post(
            "/api/gateway/payins",
            json=payin_body(currency, "100.00", **extra),
            headers={**store.headers, "Idempotency-Key": code},
        )
        assert error(answer, 422)["code"] == code

    # The requisite that already names them is still matched.
    order = await api.post(
        "/api/gateway/payins",
        json=payin_body(currency, "100.00"),
        headers={**store.headers, "Idempotency-Key": "existing"},
    )
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "awaiting_payment"
    assert order.json()["requisite"]["bank_code"] == bank

    # The currency disabled: no new store, requisite or order in it; the open order goes on.
    await _disable(api, admin_headers, f"currencies/{currency}")
    merchant = await login(api, create_user(ctx.engine, Role.merchant).email)
    store_body = {"name": "Shop", "currency": currency}
    new_store = await api.post("/api/merchant/stores", json=store_body, headers=merchant)
    assert error(new_store, 422)["code"] == "currency_disabled"
    new_requisite = await api.post(
        "/api/trader/requisites", json=requisite("sber", "card", currency), headers=trader.headers
    )
    assert error(new_requisite, 422)["code"] == "currency_disabled"
    new_order = await api.post(
        "/api/gateway/payins",
        json=payin_body(currency, "100.00"),
        headers={**store.headers, "Idempotency-Key": "after"},
    )
    assert error(new_order, 422)["code"] == "currency_disabled"
    paid = await api.post(f"/api/gateway/payins/{order.json()['id']}/paid", headers=store.headers)
    assert paid.status_code == 200 and paid.json()["status"] == "payment_claimed", paid.text

    # The public lists leave disabled codes out from the next read on.
    for kind, code in (("currencies", currency), ("banks", bank), ("payment-methods", method)):
        listed = (await api.get(f"/api/reference/{kind}")).json()
        assert code not in {item["code"] for item in listed}


async def test_a_requisite_pairs_only_a_method_its_bank_offers(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    bank = lower_code("zq")
    await created(api, admin_headers, "banks", {"code": bank, "name": "Bank"})
    trader = await make_trader(api, ctx, "RUB", requisites=0, balance_minor=0)
    body = requisite(bank, "card", "RUB")
    refused = await api.post("/api/trader/requisites", json=body, headers=trader.headers)
    assert error(refused, 422)["code"] == "payment_method_not_offered"
    offered = await api.put(f"{ADMIN}/banks/{bank}/payment-methods/card", headers=admin_headers)
    assert offered.status_code == 200, offered.text
    pairs = (await api.get("/api/reference/bank-payment-methods")).json()
    assert {"bank_code": bank, "payment_method": "card"} in pairs
    accepted = await api.post("/api/trader/requisites", json=body, headers=trader.headers)
    assert accepted.status_code == 201, accepted.text
    # Withdrawn: new requisites refused again, the one made keeps its place.
    withdrawn = await api.delete(
        f"{ADMIN}/banks/{bank}/payment-methods/card", headers=admin_headers
    )
    assert withdrawn.status_code == 204
    other = requisite(bank, "card", "RUB")
    again = await api.post("/api/trader/requisites", json=other, headers=trader.headers)
    assert error(again, 422)["code"] == "payment_method_not_offered"
    mine = (await api.get("/api/trader/requisites", headers=trader.headers)).json()
    assert [r["id"] for r in mine] == [accepted.json()["id"]]
