"""The rates an order fixes at creation: for the store when it settles in another currency,
and for each settlement currency of the traders who may take it. Decided before the order
row is written, so a create refused for want of a fresh rate leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from contracts.processing import OrderKind
from models.orders import Order
from models.traders import Requisite, RequisiteStatus, Trader
from processing.ledger.fx import convert, minor_units
from processing.platform.rates import Side, party_rate


def _sides(kind: OrderKind) -> tuple[Side, Side]:
    """(store's, trader's): a pay-in credits the store and debits the trader; a pay-out the
    reverse."""
    return ("credit", "debit") if kind == OrderKind.payin else ("debit", "credit")


def settlement_currencies(session: Session, kind: OrderKind, currency: str) -> list[str]:
    """Settlement currencies other than `currency` of the traders who may take such an order:
    those with an approved requisite in `currency` (and, for a pay-out, pay-outs enabled)."""
    query = (
        select(Trader.settlement_currency)
        .join(Requisite, col(Requisite.trader_id) == Trader.id)
        .where(
            col(Trader.settlement_currency).is_not(None),
            Trader.settlement_currency != currency,
            col(Trader.is_active),
            Requisite.currency == currency,
            Requisite.status == RequisiteStatus.approved,
        )
    )
    if kind == OrderKind.payout:
        query = query.where(col(Trader.payout_enabled))
    return sorted({code for code in session.exec(query.distinct()) if code})


def fix_rates(
    session: Session,
    order: Order,
    store_settlement: str | None,
    spread_bps: int,
    now: datetime,
) -> None:
    """Fix the order's rates (raises `RateUnavailable` when one it needs is not fresh)."""
    store_side, trader_side = _sides(order.kind)

    def rate(target: str, side: Side) -> str:
        return party_rate(
            session, target=target, source=order.currency, side=side, spread_bps=spread_bps, now=now
        )

    if store_settlement is not None and store_settlement != order.currency:
        order.store_currency = store_settlement
        order.store_rate = rate(store_settlement, store_side)
        order.store_amount_minor = converted(session, order, order.amount_minor, "store")
    codes = settlement_currencies(session, order.kind, order.currency)
    rates = {code: rate(code, trader_side) for code in codes}
    order.trader_rates = rates or None


def converted(session: Session, order: Order, amount_minor: int, party: str) -> int | None:
    """An amount of the order's currency in the party's settlement currency at its fixed rate
    (None when the party settles in the order's currency)."""
    currency, rate = getattr(order, f"{party}_currency"), getattr(order, f"{party}_rate")
    if currency is None or rate is None:
        return None
    units = minor_units(session, order.currency)
    return convert(amount_minor, units, minor_units(session, currency), Decimal(rate))


def take_trader_rate(session: Session, order: Order, trader: Trader) -> str | None:
    """Fix the trader's side on the order; the refusal reason when the trader's settlement
    currency had no rate fixed at creation (it changed since)."""
    currency = trader.settlement_currency
    if currency is None or currency == order.currency:
        order.trader_currency = order.trader_rate = order.trader_amount_minor = None
        return None
    rate = (order.trader_rates or {}).get(currency)
    if rate is None:
        return "rate_not_fixed"
    order.trader_currency, order.trader_rate = currency, rate
    order.trader_amount_minor = converted(session, order, order.amount_minor, "trader")
    return None


def trader_hold(session: Session, order: Order, trader: Trader, amount: int) -> tuple[str, int]:
    """(currency, amount) a pay-in holds on the trader: the order's own, or converted."""
    currency = trader.settlement_currency
    if currency is None or currency == order.currency:
        return order.currency, amount
    rate = Decimal((order.trader_rates or {})[currency])
    units = minor_units(session, order.currency)
    return currency, convert(amount, units, minor_units(session, currency), rate)
