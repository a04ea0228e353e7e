"""The database side of a pay-in's workflow steps: match (with the hold), transitions, and
settlement when the order completes.

Each step is idempotent: the order row is locked and its current status decides whether the
step already happened; postings and audit events carry unique keys in the database. The
worker's activities call these; they raise `processing.errors`, never Temporal errors.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from contracts.processing import (
    NO_REQUISITE,
    TERMINAL_STATUSES,
    ActorType,
    HoldAction,
    MatchOutcome,
    PayinStatus,
    TransitionInput,
    TransitionResult,
)
from core.db import session_scope
from core.metrics import MATCH_FAILURES, TIME_TO_FINISH, TIME_TO_MATCH
from models.base import as_utc, utcnow
from models.ledger import AccountKind, HoldStatus
from models.merchants import Store
from models.orders import Order, OrderEvent
from processing.errors import InvalidTransition, OrderNotFound
from processing.ledger import Leg, account_for, claim_hold, post, resolve_hold
from processing.matching import Decision, find_requisite


def lock_order(session: Session, order_id: str) -> Order:
    order = session.exec(
        select(Order)
        .where(Order.id == uuid.UUID(order_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if order is None:
        raise OrderNotFound()
    return order


def outcome_of(order: Order) -> MatchOutcome:
    return MatchOutcome(
        order_id=str(order.id),
        matched=order.requisite_id is not None,
        status=order.status.value,
        failure_reason=order.failure_reason,
        requisite_id=str(order.requisite_id) if order.requisite_id else None,
        trader_id=str(order.trader_id) if order.trader_id else None,
        amount_minor=order.amount_minor,
        expires_at=as_utc(order.expires_at) if order.expires_at else None,
        trader_deadline_s=order.trader_deadline_seconds,
    )


def audit(session: Session, order: Order, to: PayinStatus, inp: TransitionInput) -> None:
    session.add(
        OrderEvent(
            order_id=order.id,
            actor_type=ActorType(inp.actor_type),
            actor_id=inp.actor_id,
            from_status=order.status,
            to_status=to,
            reason=inp.reason,
        )
    )
    order.status, order.updated_at = to, utcnow()


def match_order(engine: Engine, order_id: str) -> MatchOutcome:
    """Choose a requisite and hold the trader's liquidity, in one transaction."""
    decided: Decision | None = None
    with session_scope(engine) as session:
        order = lock_order(session, order_id)
        if order.status != PayinStatus.created:
            return outcome_of(order)
        store = session.get(Store, order.store_id)
        assert store is not None
        decided = find_requisite(session, order, store, utcnow())
        if decided.requisite is not None:
            _assign(session, order, store, decided)
        else:
            _fail(session, order, decided)
        outcome, created_at = outcome_of(order), as_utc(order.created_at)
    # Counted once the match is committed (a rolled-back attempt is retried, not counted).
    if decided.requisite is not None:
        TIME_TO_MATCH.labels("payin").observe((utcnow() - created_at).total_seconds())
    else:
        first = decided.rejections[0]["reason"] if decided.rejections else NO_REQUISITE
        MATCH_FAILURES.labels("payin", first).inc()
    return outcome


def _assign(session: Session, order: Order, store: Store, decision: Decision) -> None:
    assert decision.requisite and decision.trader and decision.amount_minor
    amount = decision.amount_minor
    order.requisite_id, order.trader_id = decision.requisite.id, decision.trader.id
    order.amount_minor = amount
    # Rates are fixed onto the order now; later rate changes do not touch it.
    order.merchant_fee_bps = store.payin_fee_bps
    order.trader_reward_bps = decision.trader.payin_reward_bps
    order.fee_minor = bps_of(amount, store.payin_fee_bps)
    order.reward_minor = bps_of(amount, decision.trader.payin_reward_bps)
    order.matched_at = utcnow()
    order.expires_at = order.matched_at + timedelta(seconds=order.payment_deadline_seconds)
    order.match_rejections = decision.rejections or None
    audit(session, order, PayinStatus.awaiting_payment, _system("matched"))
    session.add(order)


def _fail(session: Session, order: Order, decision: Decision) -> None:
    order.failure_reason = NO_REQUISITE
    order.match_rejections = decision.rejections
    order.finished_at = utcnow()
    audit(session, order, PayinStatus.failed, _system(NO_REQUISITE))
    session.add(order)


def record_transition(engine: Engine, inp: TransitionInput) -> TransitionResult:
    """Mirror one status change (audit event, hold void/post, settlement) exactly once."""
    to = PayinStatus(inp.to_status)
    applied = False
    with session_scope(engine) as session:
        order = lock_order(session, inp.order_id)
        if order.status != to:
            if order.status != PayinStatus(inp.from_status):
                raise InvalidTransition(f"order is {order.status.value}, not {inp.from_status}")
            _apply(session, order, to, inp)
            applied = True
        deadline = as_utc(order.trader_deadline_at) if order.trader_deadline_at else None
        result = TransitionResult(str(order.id), order.status.value, deadline)
        created_at = as_utc(order.created_at)
    if applied and to in TERMINAL_STATUSES:
        age = (utcnow() - created_at).total_seconds()
        TIME_TO_FINISH.labels("payin", to.value).observe(age)
    return result


def _apply(session: Session, order: Order, to: PayinStatus, inp: TransitionInput) -> None:
    now = utcnow()
    if to == PayinStatus.payment_claimed:
        order.claimed_at = now
        order.trader_deadline_at = now + timedelta(seconds=order.trader_deadline_seconds)
    if to in (PayinStatus.completed, PayinStatus.cancelled, PayinStatus.expired):
        order.finished_at = now
    audit(session, order, to, inp)
    session.add(order)
    # The order row is written before any account row is locked: the same lock order
    # as matching (order, then account), so a settle and a match never deadlock.
    session.flush()
    if inp.hold_action == HoldAction.void:
        resolve_hold(session, order.id, HoldStatus.voided)
    elif inp.hold_action == HoldAction.post:
        settle(session, order)


def bps_of(amount: int, bps: int) -> int:
    """Basis points of an amount in minor units, rounded half up, integers only."""
    return (amount * bps + 5_000) // 10_000


def settle(session: Session, order: Order) -> None:
    """Post the hold: trader −amount +reward, store +amount −fee, platform +fee −reward."""
    hold = claim_hold(session, order.id, HoldStatus.posted)
    if hold is None:
        return
    fee, reward = order.fee_minor or 0, order.reward_minor or 0
    # The hold was placed on the trader's account at match time.
    trader_acc = hold.account_id
    store_acc = account_for(session, AccountKind.store, order.store_id, order.currency)
    profit = account_for(session, AccountKind.platform_profit, None, order.currency)
    legs = [
        Leg(trader_acc, -order.amount_minor),
        Leg(store_acc.id, order.amount_minor - fee),
        Leg(profit.id, fee),
        Leg(trader_acc, reward),
        Leg(profit.id, -reward),
    ]
    key = f"payin:{order.id}:settle"
    post(session, key, "payin_settle", legs, order_id=order.id, release=hold)


def _system(reason: str) -> TransitionInput:
    return TransitionInput("", "", "", actor_type=ActorType.system.value, reason=reason)
