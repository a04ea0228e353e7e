"""Withdrawals: amount + fee held at once, maker-checker approval, paid, completed with the
posting the spec names; refusals change nothing; tenants see only their own; a store's
merchant gets `withdrawal.*` callbacks it verifies with the official `standardwebhooks`
package; the gateway's `Idempotency-Key`. Real Temporal, database and S3."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from sqlmodel import Session, col, select

from core.context import ServiceContext
from models.funds import Withdrawal
from models.ledger import AccountKind
from tests.money.funds_kit import (
    CARD,
    CARD_BAD,
    PNG,
    TRC20,
    TRC20_BAD,
    audited,
    code_of,
    ledger,
    merchant_headers,
    pending_holds,
    saved_without_start,
    staff,
)
from tests.money.funds_kit import withdrawal_body as body
from tests.processing.conftest import CallbackReceiver, make_trader, new_currency, verify_signature
from tests.processing.payout_kit import fund_store, ledger_sum, payout_store

pytestmark = pytest.mark.usefixtures("worker")
FUNDED = 100_000_000  # make_trader's balance: 1 000 000.00


async def test_trader_withdrawal_held_approved_paid_completed(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0)
    admin_id, admin = await staff(api, ctx)
    created = await api.post("/api/trader/withdrawals", json=body(currency), headers=trader.headers)
    assert created.status_code == 201, created.text
    shown = created.json()
    assert (shown["status"], shown["fee"], shown["needs_two"]) == ("requested", "10.00", False)
    assert shown["destination"] == f"{TRC20[:4]}…{TRC20[-4:]}" and TRC20 not in created.text
    # amount + fee (100 bps) held at once
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED, 101_000)
    url = f"/api/admin/withdrawals/{shown['id']}"
    hidden = await api.get(f"{url}/destination", headers=admin)
    assert hidden.status_code == 422 and code_of(hidden) == "not_approved"

    approved = await api.post(f"{url}/approve", headers=admin)
    assert approved.json()["status"] == "approved", approved.text
    revealed = await api.get(f"{url}/destination", headers=admin)
    assert revealed.json()["value"] == TRC20
    paid = await api.post(f"{url}/paid", data={"tx_hash": "ab" * 32}, headers=admin)
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["tx_hash"]) == ("completed", "ab" * 32)

    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED - 101_000, 0)
    assert ledger(ctx, AccountKind.platform_payout, None, currency) == (100_000, 0)
    assert ledger(ctx, AccountKind.platform_profit, None, currency) == (1_000, 0)
    assert ledger_sum(ctx, currency) == 0
    trail = [(e.actor_user_id, e.after) for e in audited(ctx, "Withdrawal", shown["id"])]
    # The approval, the reveal (which destination kind) and the payment, each by the admin.
    assert [a.get("status", a.get("revealed")) for _, a in trail] == [
        "approved",
        "trc20",
        "completed",
    ]
    assert all(actor == admin_id for actor, _ in trail)


async def test_maker_checker_and_refused_actions_change_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0)
    (first_id, first), (_, second) = await staff(api, ctx), await staff(api, ctx)
    large = body(currency, "150000.00", "card", CARD)
    shown = (await api.post("/api/trader/withdrawals", json=large, headers=trader.headers)).json()
    assert shown["needs_two"] is True and shown["destination"] == "**** 1111"
    held = (FUNDED, 15_150_000)
    url = f"/api/admin/withdrawals/{shown['id']}"

    one = await api.post(f"{url}/approve", headers=first)
    assert one.json()["status"] == "requested"
    assert one.json()["first_approved_by"] == str(first_id)
    same = await api.post(f"{url}/approve", headers=first)
    assert same.status_code == 409 and code_of(same) == "same_approver"
    unapproved = await api.post(f"{url}/paid", data={"tx_hash": "c" * 64}, headers=first)
    assert unapproved.status_code == 409 and code_of(unapproved) == "invalid_transition"
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == held

    two = await api.post(f"{url}/approve", headers=second)
    assert two.json()["status"] == "approved", two.text
    cancel = await api.post(f"/api/trader/withdrawals/{shown['id']}/cancel", headers=trader.headers)
    assert cancel.status_code == 409 and code_of(cancel) == "invalid_transition"
    again = await api.post(f"{url}/approve", headers=second)
    assert again.status_code == 409
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == held

    rejected = await api.post(f"{url}/reject", json={"reason": "sanctioned"}, headers=second)
    assert rejected.json()["status"] == "rejected"
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED, 0)
    assert pending_holds(ctx, trader.trader_id, currency) == 0


async def test_bad_withdrawals_are_refused_and_change_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0, balance_minor=100_000)
    cases = [
        (body("QQQ"), "unknown_currency"),
        (body(currency, "1.001"), "invalid_amount"),
        (body(currency, to=TRC20_BAD), "invalid_address"),
        (body(currency, to="T" + "1" * 33), "invalid_address"),
        (body(currency, kind="card", to=CARD_BAD), "invalid_card"),
        # 1000.00 + 10.00 fee against 1000.00
        (body(currency, "1000.00"), "insufficient_balance"),
    ]
    for sent, code in cases:
        response = await api.post("/api/trader/withdrawals", json=sent, headers=trader.headers)
        assert response.status_code == 422, response.text
        assert code_of(response) == code, response.text
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (100_000, 0)
    assert pending_holds(ctx, trader.trader_id, currency) == 0
    listed = await api.get("/api/trader/withdrawals", headers=trader.headers)
    assert listed.json()["items"] == []


async def test_owner_cancels_before_approval_and_others_see_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0)
    other = await make_trader(api, ctx, currency, requisites=0)
    shown = (
        await api.post("/api/trader/withdrawals", json=body(currency), headers=trader.headers)
    ).json()
    path = f"/api/trader/withdrawals/{shown['id']}"
    assert (await api.get(path, headers=other.headers)).status_code == 404
    assert (await api.post(f"{path}/cancel", headers=other.headers)).status_code == 404
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED, 101_000)

    cancelled = await api.post(f"{path}/cancel", headers=trader.headers)
    assert cancelled.json()["status"] == "cancelled", cancelled.text
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED, 0)
    mine = await api.get("/api/trader/withdrawals", headers=trader.headers)
    assert [w["status"] for w in mine.json()["items"]] == ["cancelled"]


async def test_gateway_withdrawal_idempotency_and_signed_callbacks(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    receiver: CallbackReceiver,
    admin_headers: dict[str, str],
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, callback_url=receiver.url)
    await fund_store(api, admin_headers, store, "5000.00")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    sent = body(currency, "200.00", "card", CARD)
    first = await api.post("/api/gateway/withdrawals", json=sent, headers=store.headers | key)
    assert first.status_code == 201, first.text
    again = await api.post("/api/gateway/withdrawals", json=sent, headers=store.headers | key)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = body(currency, "300.00", "card", CARD)
    reused = await api.post("/api/gateway/withdrawals", json=other, headers=store.headers | key)
    assert reused.status_code == 409 and code_of(reused) == "idempotency_key_reused"
    assert ledger(ctx, AccountKind.store, store.store_id, currency) == (500_000, 20_200)

    withdrawal_id = first.json()["id"]
    merchant = await merchant_headers(api, ctx, store)
    listed = await api.get("/api/merchant/withdrawals", headers=merchant)
    assert [w["id"] for w in listed.json()["items"]] == [withdrawal_id]
    url = f"/api/admin/withdrawals/{withdrawal_id}"
    await api.post(f"{url}/approve", headers=admin_headers)
    proof = {"proof": ("p.png", PNG, "image/png")}
    paid = await api.post(f"{url}/paid", files=proof, headers=admin_headers)
    assert paid.json()["status"] == "completed" and paid.json()["has_proof"] is True
    assert ledger(ctx, AccountKind.store, store.store_id, currency) == (500_000 - 20_200, 0)

    events = await _events(receiver, store.secret, 3)
    assert [e["type"] for e in events] == [
        "withdrawal.approved",
        "withdrawal.paid",
        "withdrawal.completed",
    ]
    assert {e["data"]["withdrawal_id"] for e in events} == {withdrawal_id}
    assert all(e["data"]["destination"] == "**** 1111" for e in events)
    assert not any("4111111111111111" in json.dumps(e) for e in events)
    gateway = await api.get(f"/api/gateway/withdrawals/{withdrawal_id}", headers=store.headers)
    assert gateway.json()["status"] == "completed"


async def _events(receiver: CallbackReceiver, secret: str, count: int) -> list[dict]:
    for _ in range(100):
        if len(receiver.received) >= count:
            break
        await asyncio.sleep(0.1)
    events = [verify_signature(secret, received) for received in receiver.received]
    order = ["withdrawal.approved", "withdrawal.paid", "withdrawal.completed"]
    return sorted(events, key=lambda e: order.index(e["type"]))


@pytest.mark.usefixtures("no_platform_overrides")
async def test_a_withdrawal_past_its_sla_is_escalated_and_keeps_waiting(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    changed = await api.put(
        "/api/admin/settings/withdrawal_sla_seconds", json={"value": 1}, headers=admin_headers
    )
    assert changed.status_code == 200, changed.text
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0)
    shown = (
        await api.post("/api/trader/withdrawals", json=body(currency), headers=trader.headers)
    ).json()
    for _ in range(100):
        with Session(ctx.engine) as session:
            row = session.exec(
                select(Withdrawal).where(col(Withdrawal.id) == uuid.UUID(shown["id"]))
            ).one()
        if row.escalated_at is not None:
            break
        await asyncio.sleep(0.1)
    assert row.escalated_at is not None and row.status == "requested"
    assert [e.after["escalated"] for e in audited(ctx, "Withdrawal", shown["id"])] == [True]
    approved = await api.post(
        f"/api/admin/withdrawals/{shown['id']}/approve", headers=admin_headers
    )
    assert approved.json()["status"] == "approved"


async def test_a_withdrawal_saved_while_the_engine_was_down_is_started_by_its_first_action(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    """The row and its hold committed, the workflow's start never reached the engine: the
    owner's cancel starts it and is applied, releasing the hold."""
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0)
    row = saved_without_start(ctx, trader.trader_id, body(currency))
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED, 101_000)
    cancelled = await api.post(f"/api/trader/withdrawals/{row.id}/cancel", headers=trader.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED, 0)
