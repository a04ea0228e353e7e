"""Deposits: traders and merchants ask to top up, staff approve (two different admins above
the threshold), the balance is credited once; refusals change nothing; every staff action is
in the audit log. Real Temporal, database and S3."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import Session

from core.context import ServiceContext
from models.funds import Deposit
from models.ledger import AccountKind
from models.users import Role
from tests.factories import actor
from tests.money.funds_kit import PNG, audited, code_of, ledger, merchant_headers, staff
from tests.processing.conftest import make_store, make_trader, new_currency

pytestmark = pytest.mark.usefixtures("worker")
# The suite's threshold: above 100 000 whole units, two approvers.
SMALL, LARGE = "250.50", "150000.00"


def form(currency: str, amount: str, **extra: str) -> dict[str, str]:
    return {"amount": amount, "currency": currency, "reference": uuid.uuid4().hex, **extra}


async def test_trader_deposit_is_credited_once_approved(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0, balance_minor=0)
    _, admin = await staff(api, ctx)
    body = form(currency, SMALL, tx_hash="0x" + "ab" * 32)
    created = await api.post("/api/trader/deposits", data=body, headers=trader.headers)
    assert created.status_code == 201, created.text
    deposit = created.json()
    assert (deposit["status"], deposit["needs_two"], deposit["amount"]) == (
        "requested",
        False,
        SMALL,
    )
    # The same reference again is the same request.
    again = await api.post("/api/trader/deposits", data=body, headers=trader.headers)
    assert again.status_code == 200 and again.json()["id"] == deposit["id"]
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (0, 0)

    url = f"/api/admin/deposits/{deposit['id']}"
    approved = await api.post(f"{url}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "credited"
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (25050, 0)
    # Crediting is one posting: approving again is refused and credits nothing more.
    second = await api.post(f"{url}/approve", headers=(await staff(api, ctx))[1])
    assert second.status_code == 409
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (25050, 0)

    mine = await api.get("/api/trader/deposits", headers=trader.headers)
    assert [d["id"] for d in mine.json()["items"]] == [deposit["id"]]
    other = await make_trader(api, ctx, currency, requisites=0, balance_minor=0)
    hidden = await api.get(f"/api/trader/deposits/{deposit['id']}", headers=other.headers)
    assert hidden.status_code == 404
    assert [e.after["status"] for e in audited(ctx, "Deposit", deposit["id"])] == [
        "credited",
        "refused: invalid_transition",
    ]


async def test_above_the_threshold_two_different_admins_approve(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0, balance_minor=0)
    (first_id, first), (second_id, second) = await staff(api, ctx), await staff(api, ctx)
    created = await api.post(
        "/api/trader/deposits", data=form(currency, LARGE, tx_hash="f" * 64), headers=trader.headers
    )
    deposit = created.json()
    assert deposit["needs_two"] is True
    url = f"/api/admin/deposits/{deposit['id']}"

    confirmed = await api.post(f"{url}/approve", headers=first)
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["confirmed_by"] == str(first_id)
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (0, 0)
    same = await api.post(f"{url}/approve", headers=first)
    assert same.status_code == 409 and code_of(same) == "same_approver"
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (0, 0)

    credited = await api.post(f"{url}/approve", headers=second)
    assert credited.status_code == 200, credited.text
    assert credited.json()["status"] == "credited"
    assert credited.json()["approved_by"] == str(second_id)
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (15_000_000, 0)
    trail = audited(ctx, "Deposit", deposit["id"])
    assert [(e.actor_user_id, e.after["status"]) for e in trail] == [
        (first_id, "confirmed"),
        (first_id, "refused: same_approver"),
        (second_id, "credited"),
    ]


async def test_merchant_deposit_with_a_proof_file_and_a_rejection(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    headers = await merchant_headers(api, ctx, store)
    body = form(currency, SMALL, store_id=str(store.store_id))
    files = {"proof": ("proof.png", PNG, "image/png")}
    created = await api.post("/api/merchant/deposits", data=body, files=files, headers=headers)
    assert created.status_code == 201, created.text
    deposit = created.json()
    assert deposit["has_proof"] is True and deposit["owner_kind"] == "store"
    with Session(ctx.engine) as session:
        stored = session.get(Deposit, uuid.UUID(deposit["id"]))
        assert stored is not None and stored.proof_key is not None
    assert ctx.storage.get(stored.proof_key) == PNG

    other_currency = form(new_currency(ctx), SMALL, store_id=str(store.store_id), tx_hash="a" * 16)
    wrong = await api.post("/api/merchant/deposits", data=other_currency, headers=headers)
    assert wrong.status_code == 422 and code_of(wrong) == "currency_not_supported"
    # Another merchant can neither name this store nor read the request.
    stranger = (await actor(api, ctx.engine, Role.merchant)).headers
    refused = await api.post("/api/merchant/deposits", data=body, files=files, headers=stranger)
    assert refused.status_code == 404
    hidden = await api.get(f"/api/merchant/deposits/{deposit['id']}", headers=stranger)
    assert hidden.status_code == 404
    listed = await api.get("/api/merchant/deposits", headers=headers)
    assert [d["id"] for d in listed.json()["items"]] == [deposit["id"]]

    _, admin = await staff(api, ctx)
    rejected = await api.post(
        f"/api/admin/deposits/{deposit['id']}/reject", json={"reason": "no such tx"}, headers=admin
    )
    assert rejected.json()["status"] == "rejected"
    assert ledger(ctx, AccountKind.store, store.store_id, currency) == (0, 0)


async def test_bad_deposit_requests_change_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0, balance_minor=0)
    cases = [
        (form("QQQ", SMALL, tx_hash="a" * 16), "unknown_currency"),
        (form(currency, "1.001", tx_hash="a" * 16), "invalid_amount"),
        (form(currency, SMALL), "proof_required"),
    ]
    for body, code in cases:
        response = await api.post("/api/trader/deposits", data=body, headers=trader.headers)
        assert response.status_code == 422, response.text
        assert code_of(response) == code
    listed = await api.get("/api/trader/deposits", headers=trader.headers)
    assert listed.json()["items"] == []
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (0, 0)


async def test_admin_direct_deposit_above_the_threshold_waits_for_a_second_admin(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0, balance_minor=0)
    (maker_id, maker), (_, checker) = await staff(api, ctx), await staff(api, ctx)
    url = f"/api/admin/traders/{trader.trader_id}/deposit"
    small = await api.post(
        url, json={"amount": SMALL, "currency": currency, "reference": "a1"}, headers=maker
    )
    assert small.status_code == 200 and small.json()["balance"] == SMALL
    assert [e.after["credited"] for e in audited(ctx, "Trader", trader.trader_id)] == [True]

    large = await api.post(
        url, json={"amount": LARGE, "currency": currency, "reference": "a2"}, headers=maker
    )
    assert large.status_code == 202, large.text
    request = large.json()
    assert request["status"] == "confirmed" and request["confirmed_by"] == str(maker_id)
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (25050, 0)
    own = await api.post(f"/api/admin/deposits/{request['id']}/approve", headers=maker)
    assert own.status_code == 409 and code_of(own) == "same_approver"

    done = await api.post(f"/api/admin/deposits/{request['id']}/approve", headers=checker)
    assert done.json()["status"] == "credited"
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (15_025_050, 0)
