"""The database side of the order workflows' steps: fraud screening, a pay-in's match or a
pay-out's hold, transitions, settlement (with correction postings when a dispute is resolved
with the amount that actually moved), and dispute escalation.

Each step is idempotent: the order row is locked and its current status decides whether the
step already happened; postings and audit events carry unique keys in the database. The
worker's activities call these; they raise `processing.errors`, never Temporal errors.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contracts.processing import (
    CAPACITY_REACHED,
    FRAUD_DENIED,
    FRAUD_REJECTED,
    INSUFFICIENT_BALANCE,
    NO_REQUISITE,
    PAYOUT_DISABLED,
    TERMINAL_STATUSES,
    ActorType,
    HoldAction,
    MatchOutcome,
    OrderKind,
    OrderStatus,
    PayinStatus,
    PayoutOutcome,
    PayoutStatus,
    TransitionInput,
    TransitionResult,
)
from core.db import session_scope
from core.metrics import (
    MATCH_FAILURES,
    PAYIN_CONFIRMATIONS,
    TIME_TO_FINISH,
    TIME_TO_MATCH,
    TRADER_AUTO_OFFLINE,
)
from models.base import as_utc, utcnow
from models.fraud import FraudAction, VelocityKey
from models.ledger import AccountKind, HoldStatus
from models.merchants import Store
from models.orders import Order, OrderEvent
from models.traders import Requisite, Trader
from processing.callbacks.events import write_delivery
from processing.errors import InvalidTransition, OrderNotFound
from processing.ledger.collateral import (
    BELOW_MIN,
    INSUFFICIENT_WORKING_BALANCE,
    covers,
    offline_if_below_minimum,
)
from processing.ledger.postings import account_for, place_hold, resolve_hold
from processing.ledger.settlement import bps_of, settle
from processing.notifications import events as notify
from processing.orders.matching import Decision, find_requisite
from processing.orders.pricing import converted, take_trader_rate
from processing.risk.fraud import Screener, Screening, active_rules
from processing.teams.shares import fix_teamlead_share


def lock_order(session: Session, order_id: str) -> Order:
    """The order, row-locked for this transaction (the database's write lock on SQLite)."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE, and its driver runs SELECTs outside a transaction until
        # the first write: a write first takes the database's write lock, so nothing this
        # transaction reads next (a trader's open pay-outs) changes under it.
        session.execute(
            update(Order).where(col(Order.id) == uuid.UUID(order_id)).values(id=Order.id)
        )
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


def audit(session: Session, order: Order, to: OrderStatus | str, inp: TransitionInput) -> None:
    """The next event of the order's timeline, and the order's new status."""
    order.events += 1
    session.add(
        OrderEvent(
            order_id=order.id,
            seq=order.events,
            actor_type=ActorType(inp.actor_type),
            actor_id=inp.actor_id,
            from_status=order.status,
            to_status=OrderStatus(to),
            reason=inp.reason,
        )
    )
    order.status, order.updated_at = OrderStatus(to), utcnow()


def screened(session: Session, order: Order, screener: Screener) -> Screening | None:
    """Screen an order once (a retry or an approved review finds it already screened)."""
    if order.fraud_decision is not None:
        return None
    screening = screener.screen(session, order)
    order.fraud_decision, order.fraud_hits = screening.outcome, screening.hits or None
    if screening.decision == FraudAction.deny:
        order.failure_reason, order.finished_at = FRAUD_DENIED, utcnow()
        audit(session, order, OrderStatus.failed, system_step(FRAUD_DENIED))
    elif screening.decision == FraudAction.review:
        audit(session, order, OrderStatus.on_review, system_step("fraud_review"))
    session.add(order)
    return screening


@dataclass(frozen=True)
class Matched:
    outcome: MatchOutcome
    # The trader whose bank statement watch this match needs (its requisite is linked to a
    # bank account), read in the same transaction.
    watch_trader_id: uuid.UUID | None = None


def _watched(session: Session, requisite_id: uuid.UUID | None) -> uuid.UUID | None:
    requisite = session.get(Requisite, requisite_id) if requisite_id else None
    if requisite is None or requisite.linked_account_id is None:
        return None
    return requisite.trader_id


def match_order(engine: Engine, order_id: str, screener: Screener) -> Matched:
    """Screen the pay-in, then choose a requisite and hold the trader's liquidity, in one
    transaction. A denied order fails; one sent to review waits in `on_review`."""
    decided: Decision | None = None
    offline = False
    with session_scope(engine) as session:
        order = lock_order(session, order_id)
        if order.status != PayinStatus.created:
            return Matched(outcome_of(order), _watched(session, order.requisite_id))
        screening = screened(session, order, screener)
        if order.status != PayinStatus.created:
            outcome = outcome_of(order)
        else:
            store = session.get(Store, order.store_id)
            assert store is not None
            rules = active_rules(session, OrderKind.payin, store.id, VelocityKey.requisite)

            def within_velocity(requisite_id: uuid.UUID) -> bool:
                return all(screener.allows(rule, str(requisite_id)) for rule in rules)

            decided = find_requisite(session, order, store, utcnow(), within_velocity)
            if decided.requisite is not None:
                _assign(session, order, store, decided)
                # The hold lowered the trader's working balance: below the minimum, offline.
                offline = offline_if_below_minimum(session, decided.requisite.trader_id)
            else:
                _fail(session, order, decided)
            outcome = outcome_of(order)
        created_at = as_utc(order.created_at)
        # The requisite is in the session already (locked by the match): no extra query.
        watch = _watched(session, order.requisite_id)
    # Counted once the screening and match are committed (a retry is not counted twice).
    if offline:
        TRADER_AUTO_OFFLINE.labels(BELOW_MIN).inc()
    if screening is not None:
        screener.count(screening.counts)
    if decided is None:
        return Matched(outcome, watch)
    if decided.requisite is not None:
        screener.count((rule, str(decided.requisite.id)) for rule in rules)
        TIME_TO_MATCH.labels("payin").observe((utcnow() - created_at).total_seconds())
    else:
        first = decided.rejections[0]["reason"] if decided.rejections else NO_REQUISITE
        MATCH_FAILURES.labels("payin", first).inc()
    return Matched(outcome, watch)


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
    fix_teamlead_share(session, order, decision.trader)
    # The converted amounts follow the amount matched (a unique amount may differ).
    take_trader_rate(session, order, decision.trader)
    order.store_amount_minor = converted(session, order, amount, "store")
    order.matched_at = utcnow()
    order.expires_at = order.matched_at + timedelta(seconds=order.payment_deadline_seconds)
    order.match_rejections = decision.rejections or None
    audit(session, order, PayinStatus.awaiting_payment, system_step("matched"))
    session.add(order)
    notify.payin_matched(session, order, decision.requisite)


def _fail(session: Session, order: Order, decision: Decision) -> None:
    order.failure_reason = NO_REQUISITE
    order.match_rejections = decision.rejections
    order.finished_at = utcnow()
    audit(session, order, PayinStatus.failed, system_step(NO_REQUISITE))
    session.add(order)


def hold_payout(engine: Engine, order_id: str, screener: Screener) -> PayoutOutcome:
    """Screen the pay-out, then hold amount + fee on the store's balance (guarded: never
    below zero), in one transaction. Not enough balance fails the order (nothing held)."""
    with session_scope(engine) as session:
        order = lock_order(session, order_id)
        screening = None
        if order.status == PayoutStatus.created and order.expires_at is None:
            screening = screened(session, order, screener)
            if order.status == PayoutStatus.created:
                _hold_store_balance(session, order)
        outcome = payout_outcome(order)
    if screening is not None:
        screener.count(screening.counts)
    return outcome


def _hold_store_balance(session: Session, order: Order) -> None:
    store = session.get(Store, order.store_id)
    assert store is not None
    # A store settling in another currency is held there, at the rate the order fixed.
    currency = order.store_currency or order.currency
    account = account_for(session, AccountKind.store, order.store_id, currency)
    total = order.amount_minor + (order.fee_minor or 0)
    fx_total = converted(session, order, total, "store")
    total = total if fx_total is None else fx_total
    if not place_hold(session, order.id, account.id, total):
        order.failure_reason, order.finished_at = INSUFFICIENT_BALANCE, utcnow()
        audit(session, order, OrderStatus.failed, system_step(INSUFFICIENT_BALANCE))
    else:
        order.expires_at = utcnow() + timedelta(seconds=order.payment_deadline_seconds)
        audit(session, order, OrderStatus.created, system_step("held"))
        notify.payout_available(session, order)
    session.add(order)


def payout_outcome(order: Order) -> PayoutOutcome:
    return PayoutOutcome(
        str(order.id),
        order.status.value,
        order.failure_reason,
        as_utc(order.expires_at) if order.expires_at else None,
    )


def record_transition(engine: Engine, inp: TransitionInput) -> TransitionResult:
    """Mirror one status change (audit event, hold void/post, settlement) exactly once."""
    to = OrderStatus(inp.to_status)
    applied = False
    with session_scope(engine) as session:
        order = lock_order(session, inp.order_id)
        if order.status != to:
            if order.status != OrderStatus(inp.from_status):
                raise InvalidTransition(f"order is {order.status.value}, not {inp.from_status}")
            _apply(session, order, to, inp)
            applied = True
        has_url = None
        if inp.event_id and inp.event_type:
            has_url = write_delivery(session, inp.event_id, inp.event_type, order.id)
        result = TransitionResult(
            str(order.id),
            order.status.value,
            as_utc(order.trader_deadline_at) if order.trader_deadline_at else None,
            as_utc(order.expires_at) if order.expires_at else None,
            as_utc(order.review_until) if order.review_until else None,
            has_url,
        )
        created_at, kind = as_utc(order.created_at), order.kind.value
    if applied and to in TERMINAL_STATUSES:
        age = (utcnow() - created_at).total_seconds()
        TIME_TO_FINISH.labels(kind, to.value).observe(age)
        if kind == OrderKind.payin and to == PayinStatus.completed:
            PAYIN_CONFIRMATIONS.labels(inp.actor_type).inc()
    return result


def _apply(session: Session, order: Order, to: OrderStatus, inp: TransitionInput) -> None:
    now = utcnow()
    if to == PayinStatus.payment_claimed:
        order.claimed_at = now
        order.trader_deadline_at = now + timedelta(seconds=order.trader_deadline_seconds)
    elif to == PayoutStatus.assigned:
        _take(session, order, inp, now)
    elif to == PayoutStatus.created and order.status == PayoutStatus.assigned:
        # Back in the pool: the trader who did not pay lets it go; a new taking deadline.
        order.trader_id, order.reward_minor, order.trader_reward_bps = None, None, None
        fix_teamlead_share(session, order, None)
        order.trader_currency = order.trader_rate = order.trader_amount_minor = None
        order.trader_deadline_at = None
        order.expires_at = now + timedelta(seconds=order.payment_deadline_seconds)
    elif to == PayoutStatus.paid:
        order.paid_at = now
        order.review_until = now + timedelta(seconds=order.review_seconds)
    elif to == OrderStatus.disputed:
        order.disputed_at, order.dispute_opened_by = now, inp.actor_type
        order.dispute_reason = inp.reason
        order.dispute_evidence_id = uuid.UUID(inp.evidence_id) if inp.evidence_id else None
    elif to == OrderStatus.failed and order.status == OrderStatus.on_review:
        order.failure_reason = FRAUD_REJECTED
    if to == OrderStatus.completed and inp.actual_amount_minor is not None:
        if not 0 < inp.actual_amount_minor <= order.amount_minor:
            raise InvalidTransition("The actual amount must be above zero and at most the order's")
        order.actual_amount_minor = inp.actual_amount_minor
    if to in TERMINAL_STATUSES:
        order.finished_at = now
    audit(session, order, to, inp)
    session.add(order)
    # The order row is written before any account row is locked: the same lock order
    # as matching (order, then account), so a settle and a match never deadlock.
    session.flush()
    notify.order_moved(session, order, to)
    if inp.hold_action == HoldAction.void:
        resolve_hold(session, order.id, HoldStatus.voided)
    elif inp.hold_action == HoldAction.post:
        settle(session, order)


def open_payouts(session: Session, trader_id: uuid.UUID) -> int:
    """Pay-outs the trader has taken and not yet marked paid."""
    return session.exec(
        select(func.count()).where(
            Order.trader_id == trader_id,
            Order.kind == OrderKind.payout,
            Order.status == PayoutStatus.assigned,
        )
    ).one()


def _take(session: Session, order: Order, inp: TransitionInput, now: datetime) -> None:
    """A trader takes a pooled pay-out: still allowed to, and within their capacity. The
    trader row is locked, so one trader's concurrent takes are counted one at a time."""
    assert inp.actor_id is not None
    trader = session.exec(
        select(Trader).where(Trader.id == uuid.UUID(inp.actor_id)).with_for_update()
    ).first()
    if trader is None or not (trader.is_active and trader.payout_enabled):
        raise InvalidTransition("This trader does not take pay-outs", code=PAYOUT_DISABLED)
    if open_payouts(session, trader.id) >= trader.max_open_payouts:
        raise InvalidTransition(
            f"You have {trader.max_open_payouts} pay-outs to pay already", code=CAPACITY_REACHED
        )
    refused = take_trader_rate(session, order, trader)
    if refused is not None:
        raise InvalidTransition("No rate was fixed for your settlement currency", code=refused)
    currency = order.trader_currency or order.currency
    amount = order.trader_amount_minor or order.amount_minor
    if not covers(session, trader.id, currency, amount):
        raise InvalidTransition(
            "Your working balance does not cover this pay-out", code=INSUFFICIENT_WORKING_BALANCE
        )
    order.trader_id = trader.id
    order.trader_reward_bps = trader.payout_reward_bps
    order.reward_minor = bps_of(order.amount_minor, trader.payout_reward_bps)
    fix_teamlead_share(session, order, trader)
    order.assigned_at = now
    order.trader_deadline_at = now + timedelta(seconds=order.trader_deadline_seconds)


def escalate(engine: Engine, order_id: str) -> bool:
    """A dispute outlived its SLA: mark it (it goes to the top of the admin queue) and put
    the step in the timeline. Nothing is decided; False when there is nothing to escalate."""
    with session_scope(engine) as session:
        order = lock_order(session, order_id)
        if order.status != OrderStatus.disputed or order.escalated_at is not None:
            return False
        order.escalated_at = utcnow()
        audit(session, order, OrderStatus.disputed, system_step("dispute_sla_escalated"))
        session.add(order)
        return True


def system_step(reason: str) -> TransitionInput:
    return TransitionInput("", "", "", actor_type=ActorType.system.value, reason=reason)
