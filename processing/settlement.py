"""Settlement of a completed pay-in: the hold is posted with the commissions, Σ = 0."""

from __future__ import annotations

from sqlmodel import Session

from models.ledger import AccountKind, HoldStatus
from models.orders import Order
from processing.ledger import Leg, account_for, claim_hold, post


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
