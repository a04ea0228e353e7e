"""Settlement: a finished order's postings on the double-entry ledger, inside the caller's
transaction. The hold is posted at the order's amount; a dispute resolved with the amount
that actually moved adds a correction posting for the difference (never an edit).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from contracts.processing import OrderKind
from models.ledger import AccountKind, HoldStatus
from models.orders import Order
from processing.ledger import Leg, account_for, claim_hold, post


def bps_of(amount: int, bps: int) -> int:
    """Basis points of an amount in minor units, rounded half up, integers only."""
    return (amount * bps + 5_000) // 10_000


def settle(session: Session, order: Order) -> None:
    """Post the hold at the order's amount, then (a dispute resolved with the amount that
    actually moved) a correction posting for the difference: new postings, never edits."""
    hold = claim_hold(session, order.id, HoldStatus.posted)
    if hold is None:
        return
    store = account_for(session, AccountKind.store, order.store_id, order.currency).id
    profit = account_for(session, AccountKind.platform_profit, None, order.currency).id
    if order.kind == OrderKind.payout:
        assert order.trader_id is not None
        trader = account_for(session, AccountKind.trader, order.trader_id, order.currency).id
    else:
        trader = hold.account_id  # the pay-in's hold is on the trader's account
    kind = order.kind.value
    legs = _legs(order.kind, order.amount_minor, order.fee_minor, order.reward_minor, trader)
    post(
        session,
        f"{kind}:{order.id}:settle",
        f"{kind}_settle",
        [Leg(acc, amount) for acc, amount in _resolve(legs, store, profit)],
        order_id=order.id,
        release=hold,
    )
    actual = order.actual_amount_minor
    if actual is None or actual == order.amount_minor:
        return
    fee = bps_of(actual, order.merchant_fee_bps or 0)
    reward = bps_of(actual, order.trader_reward_bps or 0)
    after = _legs(order.kind, actual, fee, reward, trader)
    delta: dict[Any, int] = {}
    for acc, amount in after:
        delta[acc] = delta.get(acc, 0) + amount
    for acc, amount in legs:
        delta[acc] = delta.get(acc, 0) - amount
    post(
        session,
        f"{kind}:{order.id}:correction",
        "correction",
        [
            Leg(acc, amount)
            for acc, amount in _resolve(list(delta.items()), store, profit)
            if amount
        ],
        order_id=order.id,
    )


def _legs(
    kind: OrderKind, amount: int, fee: int | None, reward: int | None, trader: uuid.UUID
) -> list[tuple[Any, int]]:
    """Settlement legs; "store" and "profit" stand for accounts resolved by the caller.
    Pay-in: trader −amount +reward, store +amount −fee, platform +fee −reward.
    Pay-out: store −(amount + fee), trader +(amount + reward), platform +(fee − reward)."""
    fee, reward = fee or 0, reward or 0
    if kind == OrderKind.payout:
        return [("store", -(amount + fee)), (trader, amount + reward), ("profit", fee - reward)]
    return [
        (trader, -amount),
        ("store", amount - fee),
        ("profit", fee),
        (trader, reward),
        ("profit", -reward),
    ]


def _resolve(
    legs: list[tuple[Any, int]], store: uuid.UUID, profit: uuid.UUID
) -> list[tuple[uuid.UUID, int]]:
    names = {"store": store, "profit": profit}
    return [(names.get(acc, acc), amount) for acc, amount in legs]
