"""The events people are told about, each written by the domain step where it happens (in
that step's transaction) with a key that makes a retried step write it once. Kept small:
one call per hook, the payload built here."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from contracts.notifications import NotificationKind as K
from contracts.processing import OrderKind, OrderStatus
from models.base import as_utc, utcnow
from models.funds import Deposit, Withdrawal
from models.merchants import Merchant, Store
from models.orders import Order
from models.traders import Requisite, RequisiteStatus, Trader
from processing.notifications.outbox import amount, mask, notify, notify_staff, notify_trader


def _order(session: Session, order: Order) -> dict[str, object]:
    return {
        "order_id": str(order.id),
        "order_kind": order.kind.value,
        "amount": amount(session, order.amount_minor, order.currency),
        "currency": order.currency,
    }


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value else None


def payin_matched(session: Session, order: Order, requisite: Requisite) -> None:
    payload = _order(session, order) | {
        "requisite": mask(requisite.number_last4),
        "bank_code": requisite.bank_code,
        "expires_at": _iso(order.expires_at),
    }
    notify_trader(session, requisite.trader_id, K.payin_matched, payload, f"payin:{order.id}")


def payout_available(session: Session, order: Order) -> int:
    """Every online trader who could take it (takes pay-outs, works in its currency: an
    approved requisite in it, as the pay-out list offers), once per time it enters the pool."""
    traders = session.exec(
        select(Trader.id, Trader.user_id)
        .where(
            col(Trader.is_active).is_(True),
            col(Trader.is_online).is_(True),
            col(Trader.payout_enabled).is_(True),
        )
        .where(
            col(Trader.id).in_(
                select(Requisite.trader_id).where(
                    Requisite.currency == order.currency,
                    Requisite.status == RequisiteStatus.approved,
                )
            )
        )
    ).all()
    payload = _order(session, order) | {"expires_at": _iso(order.expires_at)}
    step = _iso(order.expires_at)
    return sum(
        notify(session, user_id, K.payout_available, payload, f"payout:{order.id}:{step}:{tid}")
        for tid, user_id in traders
    )


def dispute_opened(session: Session, order: Order) -> None:
    payload = _order(session, order) | {"opened_by": order.dispute_opened_by}
    key = f"dispute:{order.id}:{_iso(order.disputed_at)}"
    notify_trader(session, order.trader_id, K.dispute_opened, payload, key)


def order_moved(session: Session, order: Order, to: OrderStatus) -> None:
    """A transition people hear of: a dispute opened, a pay-out back in the pool (it was
    taken once: `assigned_at` stays; a pay-out leaving review was never offered)."""
    if to == OrderStatus.disputed:
        dispute_opened(session, order)
    elif order.kind == OrderKind.payout and to == OrderStatus.created and order.assigned_at:
        payout_available(session, order)


def balance_low(
    session: Session, trader_id: uuid.UUID, currency: str, working: int, minimum: int
) -> None:
    payload = {
        "currency": currency,
        "working_balance": amount(session, working, currency),
        "minimum": amount(session, minimum, currency),
    }
    key = f"balance_low:{trader_id}:{utcnow().isoformat()}"
    notify_trader(session, trader_id, K.balance_low, payload, key)


def _owner_user(session: Session, owner_kind: str, owner_id: uuid.UUID) -> uuid.UUID | None:
    if owner_kind == "trader":
        return session.exec(select(Trader.user_id).where(Trader.id == owner_id)).first()
    return session.exec(
        select(Merchant.owner_user_id)
        .join(Store, col(Store.merchant_id) == Merchant.id)
        .where(Store.id == owner_id)
    ).first()


def withdrawal_changed(session: Session, row: Withdrawal) -> None:
    user_id = _owner_user(session, row.owner_kind.value, row.owner_id)
    if user_id is None:
        return
    payload = {
        "withdrawal_id": str(row.id),
        "status": row.status.value,
        "amount": amount(session, row.amount_minor, row.currency),
        "currency": row.currency,
        "destination": row.destination_masked,
    }
    key = f"withdrawal:{row.id}:{row.status.value}"
    notify(session, user_id, K.withdrawal_status, payload, key)


def approval_waiting(session: Session, row: Deposit | Withdrawal) -> int:
    kind = "deposit" if isinstance(row, Deposit) else "withdrawal"
    payload = {
        "request_kind": kind,
        "request_id": str(row.id),
        "owner_kind": row.owner_kind.value,
        "amount": amount(session, row.amount_minor, row.currency),
        "currency": row.currency,
    }
    return notify_staff(session, K.approval_waiting, payload, f"approval:{kind}:{row.id}")


def deadlines_near(session: Session, warning_s: int, limit: int = 200) -> int:
    """Traders whose order's deadline (confirm a claimed pay-in, pay a taken pay-out) is
    within the warning: one reminder per order and deadline."""
    now = utcnow()
    orders = session.exec(
        select(Order)
        .where(
            col(Order.trader_deadline_at) > now,
            col(Order.trader_deadline_at) <= now + timedelta(seconds=warning_s),
            col(Order.trader_id).is_not(None),
            (
                (col(Order.kind) == OrderKind.payin)
                & (col(Order.status) == OrderStatus.payment_claimed)
            )
            | ((col(Order.kind) == OrderKind.payout) & (col(Order.status) == OrderStatus.assigned)),
        )
        .limit(limit)
    ).all()
    written = 0
    for order in orders:
        deadline = _iso(order.trader_deadline_at)
        payload = _order(session, order) | {"deadline": deadline}
        key = f"deadline:{order.id}:{deadline}"
        written += notify_trader(session, order.trader_id, K.deadline_near, payload, key)
    return written
