"""A transition's database step run again (a local activity retried after its commit, a
worker that died before reporting) changes nothing: one settlement posting, one delivery row
for the event it raised, holds released once. Runs on both databases, no Temporal."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func
from sqlmodel import Session, col, select

from contracts.processing import HoldAction, PayinStatus, TransitionInput
from core.context import ServiceContext
from models.ledger import Entry, Hold, HoldStatus, LedgerAccount, Posting
from models.merchants import Store
from models.orders import CallbackDelivery, Order
from models.payins import PayinCreate
from processing.orders import lifecycle
from processing.orders.payins import find_or_create_order
from processing.risk.fraud import Screener
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body


async def _matched_order(api: httpx.AsyncClient, ctx: ServiceContext) -> tuple[uuid.UUID, str]:
    currency = new_currency(ctx)
    kit = make_store(ctx, currency, callback_url="https://merchant.example/hook")
    await make_trader(api, ctx, currency)
    with Session(ctx.engine, expire_on_commit=False) as session:
        store = session.get(Store, kit.store_id)
        assert store is not None
        body = PayinCreate.model_validate(payin_body(currency))
        order, created = find_or_create_order(session, store=store, body=body, key=uuid.uuid4().hex)
    assert created
    matched = lifecycle.match_order(ctx.engine, str(order.id), Screener(ctx.settings))
    assert matched.outcome.status == PayinStatus.awaiting_payment
    return order.id, currency


def _step(order_id: uuid.UUID, before: str, to: str, **extra: object) -> TransitionInput:
    return TransitionInput(str(order_id), before, to, "trader", **extra)  # type: ignore[arg-type]


async def test_a_repeated_settling_transition_posts_and_writes_its_event_once(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    order_id, currency = await _matched_order(api, ctx)
    claimed = _step(order_id, "awaiting_payment", "payment_claimed")
    assert lifecycle.record_transition(ctx.engine, claimed).status == "payment_claimed"
    event = f"evt_{uuid.uuid4().hex}"
    settle = _step(
        order_id,
        "payment_claimed",
        "completed",
        hold_action=HoldAction.post.value,
        event_id=event,
        event_type="payin.completed",
    )
    first = lifecycle.record_transition(ctx.engine, settle)
    again = lifecycle.record_transition(ctx.engine, settle)
    assert first.status == again.status == "completed"
    assert first.event_has_url is True and again.event_has_url is True

    with Session(ctx.engine) as session:
        postings = session.exec(select(Posting).where(Posting.order_id == order_id)).all()
        assert [p.kind for p in postings] == ["payin_settle"]
        legs = session.exec(select(Entry).where(Entry.posting_id == postings[0].id)).all()
        assert len(legs) == 5 and sum(e.amount_minor for e in legs) == 0
        hold = session.exec(select(Hold).where(Hold.order_id == order_id)).one()
        assert hold.status == HoldStatus.posted and hold.resolved_at is not None
        # Nothing stays held on any account of this currency once the hold is posted.
        held = session.exec(
            select(func.sum(LedgerAccount.held_minor)).where(LedgerAccount.currency == currency)
        ).one()
        assert held == 0
        deliveries = session.exec(
            select(CallbackDelivery).where(CallbackDelivery.order_id == order_id)
        ).all()
        assert [(d.event_id, d.event_type) for d in deliveries] == [(event, "payin.completed")]
        assert '"status":"completed"' in deliveries[0].body
        assert '"confirmed_by":"trader"' in deliveries[0].body
        order = session.get(Order, order_id)
        assert order is not None and order.events == 3  # matched, claimed, completed


async def test_a_repeated_voiding_transition_releases_the_hold_once(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    order_id, _currency = await _matched_order(api, ctx)
    with Session(ctx.engine) as session:
        hold = session.exec(select(Hold).where(Hold.order_id == order_id)).one()
        account = session.get(LedgerAccount, hold.account_id)
        assert account is not None and account.held_minor == hold.amount_minor
    expire = _step(order_id, "awaiting_payment", "expired", hold_action=HoldAction.void.value)
    for _ in range(2):
        assert lifecycle.record_transition(ctx.engine, expire).status == "expired"
    with Session(ctx.engine) as session:
        account = session.get(LedgerAccount, hold.account_id)
        assert account is not None and account.held_minor == 0
        assert session.exec(select(Hold.status).where(Hold.order_id == order_id)).one() == (
            HoldStatus.voided
        )
        postings = session.exec(select(func.count()).where(col(Posting.order_id) == order_id))
        assert postings.one() == 0
