"""An administrator edits currencies, banks, payment methods and which bank offers which
method: each write audited, each bad input a 4xx with its own code and nothing changed."""

from __future__ import annotations

import httpx
from sqlmodel import Session

from core.context import ServiceContext
from models.traders import Currency
from models.users import Role
from tests.factories import create_user, login
from tests.processing.conftest import make_store, make_trader
from tests.reference.kit import ADMIN, audit_rows, created, currency_code, error, lower_code


async def test_a_currency_is_created_changed_and_deleted_with_audit(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    code = currency_code()
    body = {"code": code, "name": "Test coin", "minor_units": 6}
    assert await created(api, admin_headers, "currencies", body) == body | {"is_active": True}
    listed = (await api.get(f"{ADMIN}/currencies", headers=admin_headers)).json()
    assert body | {"is_active": True} in listed
    changed = await api.patch(
        f"{ADMIN}/currencies/{code}",
        json={"name": "Renamed", "minor_units": 4},
        headers=admin_headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"code": code, "name": "Renamed", "minor_units": 4, "is_active": True}
    gone = await api.delete(f"{ADMIN}/currencies/{code}", headers=admin_headers)
    assert gone.status_code == 204, gone.text
    with Session(ctx.engine) as session:
        assert session.get(Currency, code) is None
    rows = audit_rows(ctx, "Currency", code)
    assert [row.action for row in rows] == [
        "POST /api/admin/reference/currencies",
        "PATCH /api/admin/reference/currencies/{code}",
        "DELETE /api/admin/reference/currencies/{code}",
    ]
    assert rows[1].before == {"name": "Test coin", "minor_units": 6}
    assert rows[1].after == {"name": "Renamed", "minor_units": 4}
    assert rows[2].before["name"] == "Renamed" and rows[2].after == {}


async def test_bad_input_is_refused_with_its_code_and_changes_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    code = currency_code()
    await created(api, admin_headers, "currencies", {"code": code, "name": "Coin"})
    again = await api.post(
        f"{ADMIN}/currencies", json={"code": code, "name": "Other"}, headers=admin_headers
    )
    assert error(again, 409)["code"] == "currency_exists"
    for bad in ({"code": "usd", "name": "x"}, {"code": "US", "name": "x"}, {"code": "ABC"}):
        answer = await api.post(f"{ADMIN}/currencies", json=bad, headers=admin_headers)
        assert error(answer, 422)["code"] == "validation_error", bad
    for null in ({"name": None}, {"is_active": None}):
        answer = await api.patch(f"{ADMIN}/currencies/{code}", json=null, headers=admin_headers)
        assert error(answer, 422)["code"] == "null_not_allowed"
    missing = await api.patch(f"{ADMIN}/currencies/QZZZZZZZ", json={}, headers=admin_headers)
    assert error(missing, 404)["code"] == "currency_not_found"
    bank = lower_code("zq")
    await created(api, admin_headers, "banks", {"code": bank, "name": "Bank"})
    twice = await api.post(
        f"{ADMIN}/banks", json={"code": bank, "name": "B"}, headers=admin_headers
    )
    assert error(twice, 409)["code"] == "bank_exists"
    upper = await api.post(
        f"{ADMIN}/banks", json={"code": "Sber2", "name": "B"}, headers=admin_headers
    )
    assert error(upper, 422)["code"] == "validation_error"
    method = await api.post(
        f"{ADMIN}/payment-methods", json={"code": "card", "name": "Again"}, headers=admin_headers
    )
    assert error(method, 409)["code"] == "payment_method_exists"
    with Session(ctx.engine) as session:
        row = session.get(Currency, code)
        assert row is not None and row.name == "Coin"
    assert len(audit_rows(ctx, "Currency", code)) == 1


async def test_only_an_admin_writes(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    for role in (Role.support, Role.merchant, Role.trader):
        headers = await login(api, create_user(ctx.engine, role).email)
        body = {"code": currency_code(), "name": "Coin"}
        answer = await api.post(f"{ADMIN}/currencies", json=body, headers=headers)
        assert answer.status_code == 403, (role, answer.text)
    anonymous = await api.delete(f"{ADMIN}/currencies/RUB")
    assert anonymous.status_code == 401


async def test_a_currency_in_use_is_never_deleted_only_disabled(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    code = currency_code()
    await created(api, admin_headers, "currencies", {"code": code, "name": "Coin"})
    make_store(ctx, code)
    refused = await api.delete(f"{ADMIN}/currencies/{code}", headers=admin_headers)
    body = error(refused, 409)
    assert body["code"] == "currency_in_use"
    assert body["details"]["used_by"] == ["stores.currency"]
    units = await api.patch(
        f"{ADMIN}/currencies/{code}", json={"minor_units": 0}, headers=admin_headers
    )
    assert error(units, 409)["code"] == "currency_in_use"
    with Session(ctx.engine) as session:
        row = session.get(Currency, code)
        assert row is not None and row.minor_units == 2 and row.is_active
    assert len(audit_rows(ctx, "Currency", code)) == 1  # the create only
    disabled = await api.patch(
        f"{ADMIN}/currencies/{code}", json={"is_active": False}, headers=admin_headers
    )
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False


async def test_a_bank_and_a_method_in_use_stay_and_offers_are_edited(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    trader = await make_trader(api, ctx, "RUB", balance_minor=0)
    assert trader.requisite_ids
    for kind, code in (("banks", "sber"), ("payment-methods", "card")):
        answer = await api.delete(f"{ADMIN}/{kind}/{code}", headers=admin_headers)
        word = "bank" if kind == "banks" else "payment_method"
        assert error(answer, 409)["code"] == f"{word}_in_use"
        assert "requisites" in answer.json()["error"]["details"]["used_by"][0]
    banks = {
        row["code"]: row for row in (await api.get(f"{ADMIN}/banks", headers=admin_headers)).json()
    }
    assert banks["sber"]["is_active"] and {"account", "card", "sbp"} <= set(
        banks["sber"]["payment_methods"]
    )
    bank, method = lower_code("zq"), lower_code("m")
    await created(api, admin_headers, "banks", {"code": bank, "name": "New bank"})
    await created(api, admin_headers, "payment-methods", {"code": method, "name": "New"})
    offered = await api.put(f"{ADMIN}/banks/{bank}/payment-methods/{method}", headers=admin_headers)
    assert offered.status_code == 200 and offered.json()["payment_methods"] == [method]
    unknown = await api.put(f"{ADMIN}/banks/{bank}/payment-methods/nosuch", headers=admin_headers)
    assert error(unknown, 404)["code"] == "payment_method_not_found"
    # Unused: deleted, its offers with it (each audited).
    gone = await api.delete(f"{ADMIN}/payment-methods/{method}", headers=admin_headers)
    assert gone.status_code == 204, gone.text
    after = (await api.get(f"{ADMIN}/banks", headers=admin_headers)).json()
    assert {"code": bank, "name": "New bank", "is_active": True, "payment_methods": []} in after
    assert len(audit_rows(ctx, "BankPaymentMethod", f"{bank},{method}")) == 2
    assert (await api.delete(f"{ADMIN}/banks/{bank}", headers=admin_headers)).status_code == 204
