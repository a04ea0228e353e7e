"""Accounts, balances, transactions, cards, products and agreements served by the emulator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from bank_emulator.app import create_emulator_app
from tests.bank_emulator.helpers import ADMIN, SECRET, bank_token, consent, settings


async def accounts_of(
    http: httpx.AsyncClient, bank: str, client_id: str, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The client's accounts, under the given consent or a new one (a second active consent
    of one client would make the bank answer 500, as the real bank does)."""
    if headers is None:
        headers, _ = await consent(http, bank, client_id)
    response = await http.get(f"/{bank}/accounts", params={"client_id": client_id}, headers=headers)
    assert response.status_code == 200, response.text
    accounts: list[dict[str, Any]] = response.json()["data"]["account"]
    return accounts


async def all_pages(
    http: httpx.AsyncClient, bank: str, path: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await http.get(
            f"/{bank}{path}", params={**params, "page": page}, headers=headers
        )
        body = response.json()
        items += body["data"]["transaction"]
        if "next" not in body["links"]:
            assert body["meta"]["currentPage"] == body["meta"]["totalPages"]
            return items
        page += 1


async def test_accounts_wire_shape_and_business_quirk(emulator: httpx.AsyncClient) -> None:
    accounts = await accounts_of(emulator, "vbank", "team042-1")
    by_type = {a["accountSubType"]: a for a in accounts}
    assert set(by_type) == {"Checking", "Savings", "Loan", "CreditCard"}
    assert by_type["Checking"]["accountType"] == "Personal"
    assert by_type["Loan"]["accountType"] == "Business"
    number = by_type["Checking"]["account"][0]
    assert number["schemeName"] == "RU.CBR.PAN"
    assert len(number["identification"]) == 20 and number["identification"].isdigit()
    assert all(a["accountId"].startswith("acc-") for a in accounts)


async def test_profiles_without_loans_and_with_only_a_loan(emulator: httpx.AsyncClient) -> None:
    no_loans = await accounts_of(emulator, "abank", "team042-3")
    assert {a["accountSubType"] for a in no_loans}.isdisjoint({"Loan", "CreditCard"})
    loan_only = await accounts_of(emulator, "abank", "team042-9")
    assert [a["accountSubType"] for a in loan_only] == ["Loan"]


async def test_loan_balance_is_positive_debt(emulator: httpx.AsyncClient) -> None:
    headers, _ = await consent(emulator, "vbank", "team042-9")
    account_id = (await accounts_of(emulator, "vbank", "team042-9", headers))[0]["accountId"]
    body = (await emulator.get(f"/vbank/accounts/{account_id}/balances", headers=headers)).json()
    balances = body["data"]["balance"]
    assert {b["type"] for b in balances} == {"InterimAvailable", "InterimBooked"}
    booked = next(b for b in balances if b["type"] == "InterimBooked")
    assert booked["creditDebitIndicator"] == "Credit" and float(booked["amount"]["amount"]) > 0
    assert isinstance(booked["amount"]["amount"], str)


async def test_transactions_page_to_the_end_newest_first(emulator: httpx.AsyncClient) -> None:
    headers, _ = await consent(emulator, "vbank", "team042-1")
    account_id = (await accounts_of(emulator, "vbank", "team042-1", headers))[0]["accountId"]
    path = f"/accounts/{account_id}/transactions"
    first = (await emulator.get(f"/vbank{path}", params={"limit": 100}, headers=headers)).json()
    meta = first["meta"]
    assert meta["pageSize"] == 100 and meta["currentPage"] == 1 and meta["totalRecords"] > 200
    items = await all_pages(emulator, "vbank", path, headers, limit=100)
    assert len(items) == meta["totalRecords"]
    assert len({t["transactionId"] for t in items}) == len(items)
    stamps = [datetime.fromisoformat(t["bookingDateTime"]) for t in items]
    assert stamps == sorted(stamps, reverse=True)
    infos = {t["transactionInformation"] for t in items}
    assert {"💼 Зарплата", "🏠 ЖКХ/Аренда", "🛒 Продукты", "🏦 Платёж по кредиту"} <= infos
    grocery = next(t for t in items if t["transactionInformation"] == "🛒 Продукты")
    assert grocery["merchant"]["mccCode"] == "5411"
    assert (
        grocery["card"]["cardNumber"].startswith("****") and len(grocery["card"]["cardNumber"]) == 8
    )
    assert {t["status"] for t in items} >= {"Booked", "Pending"}


async def test_limit_above_100_is_422(emulator: httpx.AsyncClient) -> None:
    headers, _ = await consent(emulator, "vbank", "team042-1")
    response = await emulator.get(
        "/vbank/accounts/acc-1011/transactions", params={"limit": 101}, headers=headers
    )
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


async def test_date_filter_is_honoured_or_ignored_per_setting(emulator: httpx.AsyncClient) -> None:
    headers, _ = await consent(emulator, "sbank", "team042-2")
    window = {
        "from_booking_date_time": "2025-05-01T00:00:00Z",
        "to_booking_date_time": "2025-05-31T23:59:59",
    }
    path = "/accounts/acc-3021/transactions"
    filtered = await all_pages(emulator, "sbank", path, headers, limit=100, **window)
    assert filtered and all(t["bookingDateTime"].startswith("2025-05") for t in filtered)
    await emulator.post("/sbank/admin/behaviour", json={"ignore_date_filter": True}, headers=ADMIN)
    ignored = await all_pages(emulator, "sbank", path, headers, limit=100, **window)
    assert len(ignored) > len(filtered)


async def test_abank_sends_zoneless_timestamps(emulator: httpx.AsyncClient) -> None:
    headers, _ = await consent(emulator, "abank", "team042-1")
    body = (await emulator.get("/abank/accounts/acc-2011/transactions", headers=headers)).json()
    stamp = body["data"]["transaction"][0]["bookingDateTime"]
    assert datetime.fromisoformat(stamp).tzinfo is None


async def test_same_seed_same_data_other_seed_other_data() -> None:
    async def snapshot(seed: int) -> list[dict[str, Any]]:
        app = create_emulator_app(settings(seed=seed))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://e"
        ) as http:
            headers, _ = await consent(http, "vbank", "team042-5")
            accounts = await accounts_of(http, "vbank", "team042-5", headers)
            path = f"/accounts/{accounts[0]['accountId']}/transactions"
            return accounts + await all_pages(http, "vbank", path, headers, limit=100)

    assert await snapshot(42) == await snapshot(42)
    assert await snapshot(42) != await snapshot(43)


async def test_cards_are_masked(emulator: httpx.AsyncClient) -> None:
    headers, _ = await consent(emulator, "vbank", "team042-1")
    body = (
        await emulator.get("/vbank/cards", params={"client_id": "team042-1"}, headers=headers)
    ).json()
    assert body["data"]["total"] == 2
    assert all(c["cardNumber"].startswith("****") for c in body["data"]["cards"])


async def test_products_filter_and_string_numbers(emulator: httpx.AsyncClient) -> None:
    headers = await bank_token(emulator, "abank")
    body = (
        await emulator.get("/abank/products", params={"product_type": "loan"}, headers=headers)
    ).json()
    products = body["data"]["product"]
    assert products and {p["productType"] for p in products} == {"loan"}
    assert isinstance(products[0]["interestRate"], str)


async def product_consent(http: httpx.AsyncClient, bank: str, client_id: str) -> dict[str, Any]:
    headers = await bank_token(http, bank)
    body = {
        "requesting_bank": "team042",
        "client_id": client_id,
        "read_product_agreements": True,
        "allowed_product_types": ["deposit", "card", "loan"],
        "reason": "t",
    }
    path = f"/{bank}/product-agreement-consents/request"
    answer = await http.post(path, params={"client_id": client_id}, json=body, headers=headers)
    result: dict[str, Any] = answer.json()
    return result | {"headers": headers}


async def test_product_agreement_consent_is_flat_snake_case(emulator: httpx.AsyncClient) -> None:
    pa = await product_consent(emulator, "vbank", "team042-10")
    assert pa["consent_id"].startswith("pagc-") and pa["request_id"].startswith("pagcr-")
    path = f"/vbank/product-agreement-consents/{pa['consent_id']}"
    login = await emulator.post(
        "/vbank/auth/login", json={"username": "team042-10", "password": SECRET}
    )
    user = {"Authorization": f"Bearer {login.json()['access_token']}"}
    read = (await emulator.get(path, headers=user)).json()
    assert read["status"] == "approved" and read["client_id"] == "team042-10"
    assert read["allowed_product_types"] == ["deposit", "card", "loan"]


async def test_product_agreements_use_their_own_consent_header(
    emulator: httpx.AsyncClient,
) -> None:
    pa = await product_consent(emulator, "vbank", "team042-10")
    params = {"client_id": "team042-10"}
    wrong = {**pa["headers"], "X-Consent-Id": pa["consent_id"]}
    refused = await emulator.get("/vbank/product-agreements", params=params, headers=wrong)
    assert refused.status_code == 403
    headers = {**pa["headers"], "X-Product-Agreement-Consent-Id": pa["consent_id"]}
    listing = (
        await emulator.get("/vbank/product-agreements", params=params, headers=headers)
    ).json()
    assert listing["meta"]["total"] == len(listing["data"]) == 3
    loan = next(a for a in listing["data"] if a["product_type"] == "loan")
    assert isinstance(loan["amount"], float) and "interest_rate" not in loan
    assert datetime.fromisoformat(loan["start_date"]).tzinfo is None
    path = f"/vbank/product-agreements/{loan['agreement_id']}"
    detail = (await emulator.get(path, params=params, headers=headers)).json()["data"]
    assert detail["interest_rate"] > 0 and detail["account_balance"] > 0
