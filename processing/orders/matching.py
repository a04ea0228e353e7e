"""Requisite selection for a pay-in: static filters (in SQL, processing/orders/candidates.py),
dynamic limits, unique amount, hold.

Runs inside the match transaction. The chosen requisite row is locked (SKIP LOCKED, so two
matches never wait on each other) before its limits are computed from orders, and the
trader's liquidity is reserved by a guarded UPDATE: concurrent matches never double-book.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from contracts.processing import OPEN_STATUSES, PayinStatus
from models.base import as_utc, utcnow
from models.ledger import AccountKind, LedgerAccount
from models.merchants import Store
from models.orders import Order
from models.traders import Requisite, Trader
from processing.ledger.postings import account_for, place_hold
from processing.orders.candidates import Rank, candidates, exclusions
from processing.orders.pricing import trader_hold

# The balance would cover the order, the working balance (less the security deposit) not.
WORKING_BALANCE = "working_balance"
WINDOW = timedelta(minutes=60)
# Orders that moved money (or still may): they count towards turnover and order counts.
COUNTED_STATUSES = (*OPEN_STATUSES, PayinStatus.completed)


@dataclass
class Decision:
    requisite: Requisite | None = None
    trader: Trader | None = None
    amount_minor: int | None = None
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, requisite_id: uuid.UUID | None, reason: str) -> None:
        self.rejections.append(
            {"requisite_id": str(requisite_id) if requisite_id else None, "reason": reason}
        )


@dataclass
class Usage:
    open_orders: int
    window_turnover: int
    day_turnover: int
    month_turnover: int
    day_count: int
    month_count: int


def usage_of(session: Session, requisite_id: uuid.UUID, now: datetime) -> Usage:
    """Limits computed from the orders themselves, so there is no counter to drift."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)

    def total(since: datetime, amount: bool) -> Any:
        value = col(Order.amount_minor) if amount else 1
        return func.coalesce(func.sum(case((col(Order.matched_at) >= since, value), else_=0)), 0)

    row = (
        session.connection()
        .execute(
            sa_select(
                func.coalesce(
                    func.sum(case((col(Order.status).in_(OPEN_STATUSES), 1), else_=0)), 0
                ),
                total(now - WINDOW, True),
                total(day, True),
                total(month, True),
                total(day, False),
                total(month, False),
            ).where(
                col(Order.requisite_id) == requisite_id,
                col(Order.status).in_(COUNTED_STATUSES),
                col(Order.matched_at) >= min(month, now - WINDOW),
            )
        )
        .one()
    )
    return Usage(*(int(v) for v in row))


def limit_rejection(requisite: Requisite, usage: Usage, amount: int, now: datetime) -> str | None:
    r = requisite
    last = as_utc(r.last_used_at) if r.last_used_at else None
    checks = (
        (
            r.max_open_orders is not None and usage.open_orders >= r.max_open_orders,
            "max_open_orders",
        ),
        (
            bool(
                r.cooldown_seconds and last and now < last + timedelta(seconds=r.cooldown_seconds)
            ),
            "cooldown",
        ),
        (_over(r.window_turnover_limit_minor, usage.window_turnover + amount), "window_turnover"),
        (_over(r.daily_turnover_limit_minor, usage.day_turnover + amount), "daily_turnover"),
        (_over(r.monthly_turnover_limit_minor, usage.month_turnover + amount), "monthly_turnover"),
        (_over(r.daily_count_limit, usage.day_count + 1), "daily_count"),
        (_over(r.monthly_count_limit, usage.month_count + 1), "monthly_count"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _over(limit: int | None, value: int) -> bool:
    return limit is not None and value > limit


def unique_amount(session: Session, order: Order, requisite: Requisite, store: Store) -> int | None:
    """The requested amount, or the nearest free one within the store's shift bounds."""
    taken = set(
        session.exec(
            select(Order.amount_minor).where(
                Order.requisite_id == requisite.id, col(Order.status).in_(OPEN_STATUSES)
            )
        ).all()
    )
    step, limit = store.amount_shift_step_minor, store.amount_shift_max_minor
    base = order.requested_amount_minor
    offsets = [0]
    for k in range(1, limit // step + 1):
        offsets += [k * step, -k * step]
    for offset in offsets:
        amount = base + offset
        if (
            amount not in taken
            and requisite.min_amount_minor <= amount <= requisite.max_amount_minor
        ):
            return amount
    return None


def find_requisite(
    session: Session,
    order: Order,
    store: Store,
    now: datetime,
    within_velocity: Callable[[uuid.UUID], bool] = lambda _: True,
) -> Decision:
    """Pick and reserve a requisite for the order, or explain every rejection. A requisite
    over a fraud velocity rule is skipped (`fraud_velocity`)."""
    decision = Decision()
    # The ranks as read: taking a requisite marks it used, which would move it in RANK.
    ranked = [(r, t, Rank.of(r, t)) for r, t in candidates(session, order)]
    busy = []
    # First pass skips requisites another match is deciding on (spreads concurrent orders);
    # the second waits for them, so a busy moment is never reported as "nothing available".
    for requisite, trader, rank in ranked:
        reason = None if within_velocity(requisite.id) else "fraud_velocity"
        reason = reason or _try_reserve(
            session, decision, order, store, requisite, trader, now, wait=False
        )
        if reason is None:
            return _reported(session, decision, order, rank)
        if reason == "busy":
            busy.append((requisite, trader, rank))
        else:
            decision.reject(requisite.id, reason)
    for requisite, trader, rank in busy:
        reason = _try_reserve(session, decision, order, store, requisite, trader, now, wait=True)
        if reason is None:
            return _reported(session, decision, order, rank)
        decision.reject(requisite.id, reason)
    return _reported(session, decision, order, None)


def _reported(session: Session, decision: Decision, order: Order, taken: Rank | None) -> Decision:
    """The requisites the static checks left out go first in the report: on a match, those
    ranked before the one taken; without one, all of them."""
    excluded = exclusions(session, order, taken)
    if taken is None and not excluded and not decision.rejections:
        decision.reject(None, "no_requisites_for_currency")
    decision.rejections[:0] = excluded
    return decision


def _try_reserve(
    session: Session,
    decision: Decision,
    order: Order,
    store: Store,
    requisite: Requisite,
    trader: Trader,
    now: datetime,
    wait: bool,
) -> str | None:
    # A savepoint per candidate: rolling it back releases the row lock of a rejected one,
    # so a match only ever holds the lock of the requisite it takes.
    savepoint = session.begin_nested()
    reason = _reserve_locked(session, decision, order, store, requisite, trader, now, wait)
    if reason is None:
        savepoint.commit()
    else:
        savepoint.rollback()
    return reason


def _reserve_locked(
    session: Session,
    decision: Decision,
    order: Order,
    store: Store,
    requisite: Requisite,
    trader: Trader,
    now: datetime,
    wait: bool,
) -> str | None:
    # A trader settling in another currency is held there, at the rate the order fixed.
    settles_in = trader.settlement_currency or order.currency
    if settles_in != order.currency and settles_in not in (order.trader_rates or {}):
        return "rate_not_fixed"
    # Looked up before the requisite lock: the less work under it, the more matches per second.
    account = account_for(session, AccountKind.trader, trader.id, settles_in)
    locked = session.exec(
        select(Requisite)
        .where(Requisite.id == requisite.id)
        .with_for_update(skip_locked=not wait)
        .execution_options(populate_existing=True)
    ).first()
    if locked is None:
        return "busy"
    # The clock is read after the lock: a match that waited must not see the previous
    # holder's last_used_at in its future.
    now = max(now, utcnow())
    usage = usage_of(session, locked.id, now)
    reason = limit_rejection(locked, usage, order.requested_amount_minor, now)
    if reason:
        return reason
    amount = unique_amount(session, order, locked, store)
    if amount is None:
        return "amount_taken"
    _, held = trader_hold(session, order, trader, amount)
    if not place_hold(session, order.id, account.id, held):
        return _shortage(session, account, held)
    locked.last_used_at = now
    session.add(locked)
    decision.requisite, decision.trader, decision.amount_minor = locked, trader, amount
    return None


def _shortage(session: Session, account: LedgerAccount, amount: int) -> str:
    """Why the hold failed: the balance itself is short, or only what the trader's security
    deposit freezes makes it short (the working balance)."""
    session.refresh(account)
    if account.balance_minor - account.held_minor >= amount:
        return WORKING_BALANCE
    return "insufficient_balance"
