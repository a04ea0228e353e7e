"""The statement bridge's decisions on real services: a credit of exactly a pay-in's payable
amount on the requisite's linked account completes it by `bank_statement` (or is offered to
a trader whose policy is `suggest`); a near amount is offered and flagged, never guessed; a
credit no open order takes is an orphan; a transaction decides once, however often scanned.

The synced account and its transactions are written as Connect's sync writes them (rows in
our own database), and the link is written after the orders matched, so no statement watch
runs and decides these credits first (`test_statement_bridge.py` drives the real thing)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlmodel import Session, select
from temporalio.client import Client

from core.context import ServiceContext
from models.banking import AccountKind, BankAccount, BankTransaction, TransactionStatus
from models.base import utcnow
from models.orders import Order, OrderEvent
from models.statement import CreditOutcome, StatementCredit
from models.traders import Requisite, Trader
from processing.bridge.statement import confirm_by_statement, decide_credits
from tests.processing.conftest import TraderKit, make_store, make_trader, new_currency, payin_body


def link_account(ctx: ServiceContext, trader: TraderKit) -> BankAccount:
    with Session(ctx.engine, expire_on_commit=False) as session:
        row = session.get(Trader, trader.trader_id)
        assert row is not None
        account = BankAccount(
            user_id=row.user_id,
            bank_code="vbank",
            external_id=f"acc-{uuid.uuid4().hex[:8]}",
            sub_type="CurrentAccount",
            kind=AccountKind.liquid,
            currency="RUB",
        )
        session.add(account)
        session.flush()
        requisite = session.get(Requisite, trader.requisite_ids[0])
        assert requisite is not None
        requisite.linked_account_id = account.id
        session.add(requisite)
        session.commit()
        return account


def credit(ctx: ServiceContext, account: BankAccount, amount_minor: int) -> uuid.UUID:
    with Session(ctx.engine) as session:
        tx = BankTransaction(
            user_id=account.user_id,
            account_id=account.id,
            bank_code=account.bank_code,
            external_id=f"tx-{uuid.uuid4().hex[:10]}",
            booked_at=utcnow() + timedelta(seconds=1),
            amount_minor=amount_minor,
            currency=account.currency,
            status=TransactionStatus.booked,
            description="SBP transfer from Ivan P.",
        )
        session.add(tx)
        session.commit()
        return tx.id


async def test_credits_confirm_suggest_flag_and_orphan(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    temporal_client: Client,
    admin_headers: dict[str, str],
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, requisites=1)
    orders = [
        (
            await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
        ).json()
        for _ in range(2)
    ]
    account = link_account(ctx, trader)  # after the matches: no watch races these decisions
    first, second = (int(o["amount"].replace(".", "")) for o in orders)
    assert first != second  # unique payable amounts on one requisite

    exact = credit(ctx, account, first)
    near = credit(ctx, account, second - 50)  # within the store's shift step (1.00)
    stray = credit(ctx, account, 77_700)
    decisions = {d.transaction_id: d for d in decide_credits(ctx.engine, trader.requisite_ids[0])}
    assert decisions[exact].outcome == CreditOutcome.confirmed
    assert decisions[exact].order_id == uuid.UUID(orders[0]["id"])
    assert decisions[near].outcome == CreditOutcome.near_amount
    assert decisions[near].order_id == uuid.UUID(orders[1]["id"])
    assert decisions[stray].outcome == CreditOutcome.orphan
    # scanning again (or the bank delivering the same transactions again) decides nothing
    assert decide_credits(ctx.engine, trader.requisite_ids[0]) == []

    assert await confirm_by_statement(ctx, temporal_client, decisions[exact])
    done = (await api.get(f"/api/gateway/payins/{orders[0]['id']}", headers=store.headers)).json()
    assert done["status"] == "completed"
    with Session(ctx.engine) as session:
        last = session.exec(
            select(OrderEvent)
            .where(OrderEvent.order_id == uuid.UUID(orders[0]["id"]))
            .order_by(OrderEvent.seq.desc())  # type: ignore[attr-defined]
        ).first()
        assert last is not None and last.actor_type == "bank_statement"
        assert last.reason is not None and decisions[exact].evidence in last.reason
        flagged = session.get(Order, uuid.UUID(orders[1]["id"]))
        assert flagged is not None
        assert flagged.status == "awaiting_payment" and flagged.flags == ["near_amount_credit"]
        rows = session.exec(
            select(StatementCredit).where(StatementCredit.requisite_id == trader.requisite_ids[0])
        ).all()
        assert len(rows) == 3

    report = await api.get(
        f"/api/admin/orders/{orders[1]['id']}/match-report", headers=admin_headers
    )
    assert report.json()["flags"] == ["near_amount_credit"]
    # the same credit never confirms a second order: a completed order is not confirmable
    assert not await confirm_by_statement(ctx, temporal_client, decisions[exact])


async def test_suggest_policy_leaves_the_click_to_the_trader(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, requisites=1)
    with Session(ctx.engine) as session:
        row = session.get(Trader, trader.trader_id)
        assert row is not None
        row.statement_policy = "suggest"
        session.add(row)
        session.commit()
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    account = link_account(ctx, trader)
    tx = credit(ctx, account, int(order["amount"].replace(".", "")))
    (decision,) = decide_credits(ctx.engine, trader.requisite_ids[0])
    assert (decision.transaction_id, decision.outcome) == (tx, CreditOutcome.suggested)
    still = (await api.get(f"/api/gateway/payins/{order['id']}", headers=store.headers)).json()
    assert still["status"] == "awaiting_payment"
    confirmed = await api.post(f"/api/trader/orders/{order['id']}/confirm", headers=trader.headers)
    assert confirmed.json()["status"] == "completed"


async def test_two_candidates_are_ambiguous_and_a_hand_confirm_is_verified(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, requisites=1)

    async def payin(amount: str) -> dict:
        body = payin_body(currency, amount)
        return dict(
            (await api.post("/api/gateway/payins", json=body, headers=store.headers)).json()
        )

    async def by_hand(order: dict) -> None:
        path = f"/api/trader/orders/{order['id']}/confirm"
        assert (await api.post(path, headers=trader.headers)).json()["status"] == "completed"

    done = await payin("1500.00")
    await by_hand(done)
    again = await payin("1500.00")  # the amount is free again once the first order closed
    assert again["amount"] == done["amount"]
    other = await payin("1600.00")
    await by_hand(other)
    account = link_account(ctx, trader)
    both = credit(ctx, account, int(done["amount"].replace(".", "")))
    backs = credit(ctx, account, int(other["amount"].replace(".", "")))
    decisions = {d.transaction_id: d for d in decide_credits(ctx.engine, trader.requisite_ids[0])}
    # done (confirmed by hand) and again (open) both fit: offered, flagged, nothing decided
    assert decisions[both].outcome == CreditOutcome.ambiguous
    assert decisions[backs].outcome == CreditOutcome.verified
    assert decisions[backs].order_id == uuid.UUID(other["id"])
    with Session(ctx.engine) as session:
        for order in (done, again):
            row = session.get(Order, uuid.UUID(order["id"]))
            assert row is not None and row.flags == ["ambiguous_credit"]
        still = session.get(Order, uuid.UUID(again["id"]))
        assert still is not None and still.status == "awaiting_payment"
