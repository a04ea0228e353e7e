"""What merchants, traders and admins see of processing rows (never the rows themselves).

Requisite numbers are masked to their last four digits everywhere except the one place a
customer must see the number to pay (`full_number=True`, the create reply).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, select

from contracts.processing import ActorType, OrderStatus
from core.security import mask_number
from models.amounts import format_minor, to_decimal
from models.base import as_utc
from models.ledger import Entry, EntryPublic, LedgerAccount, Posting, PostingPublic
from models.orders import CallbackAttempt, CallbackDelivery, Order, OrderEvent
from models.payins import (
    BalancePublic,
    CallbackAttemptPublic,
    CallbackDeliveryPublic,
    DisputePublic,
    PayinPublic,
    PaymentRequisite,
    SettlementPublic,
)
from models.payouts import PayoutOffer, PayoutPublic, RecipientKind, RecipientPublic
from models.traders import Requisite, RequisitePublic
from processing.ledger.fx import minor_units
from processing.ledger.settlement import bps_of

Party = Literal["store", "trader"]


def mask_holder(name: str) -> str:
    """'Ivan Petrov' → 'Ivan P.': enough for the customer to recognise, not to identify."""
    first, *rest = name.split()
    return " ".join([first, *(part[0] + "." for part in rest)])


def payin_public(
    session: Session,
    order: Order,
    decrypt: Callable[[str], str] | None = None,
    party: Party = "store",
    confirmed: dict[uuid.UUID, ActorType] | None = None,
    with_requisite: bool = True,
) -> PayinPublic:
    """The order as the API shows it; with `decrypt` the requisite number is shown in full.
    `settlement` is the side of `party` (the trader's desk shows the trader's). A list
    passes `confirmed` (`confirmed_by_many` of its page: one query, not one per row), and
    an export that does not show the requisite leaves it out (`with_requisite=False`)."""
    units = minor_units(session, order.currency)
    requisite = None
    if order.requisite_id is not None and with_requisite:
        row = session.get(Requisite, order.requisite_id)
        assert row is not None
        # Decrypt only where the customer must see the number to pay; elsewhere the stored
        # last four digits are enough.
        number = decrypt(row.number_encrypted) if decrypt else mask_number(row.number_last4)
        requisite = PaymentRequisite(
            number=number,
            holder_name=mask_holder(row.holder_name),
            bank_code=row.bank_code,
            payment_method=row.payment_method,
        )
    return PayinPublic(
        **order.model_dump(
            include={"id", "merchant_order_id", "status", "failure_reason", "currency"}
            | {"payment_method", "bank_code", "finished_at"}
        ),
        requested_amount=to_decimal(order.requested_amount_minor, units),
        amount=to_decimal(order.amount_minor, units),
        requisite=requisite,
        expires_at=as_utc(order.expires_at) if order.expires_at else None,
        trader_deadline_at=as_utc(order.trader_deadline_at) if order.trader_deadline_at else None,
        created_at=as_utc(order.created_at),
        updated_at=as_utc(order.updated_at),
        dispute=dispute_public(order),
        actual_amount=_amount(order.actual_amount_minor, units),
        confirmed_by=(
            confirmed_by(session, order) if confirmed is None else confirmed.get(order.id)
        ),
        settlement=settlement_public(session, order, party),
    )


def settlement_public(
    session: Session, order: Order, party: Party = "store"
) -> SettlementPublic | None:
    """The party's settlement currency side, when the order fixed a rate for it."""
    currency, rate = getattr(order, f"{party}_currency"), getattr(order, f"{party}_rate")
    if currency is None or rate is None:
        return None
    amount = getattr(order, f"{party}_amount_minor")
    return SettlementPublic(
        currency=currency, rate=rate, amount=_amount(amount, minor_units(session, currency))
    )


def confirmed_by(session: Session, order: Order) -> ActorType | None:
    """Who moved a completed order to `completed` (the last such event); None before."""
    if order.status != OrderStatus.completed:
        return None
    actor = session.exec(
        select(OrderEvent.actor_type)
        .where(OrderEvent.order_id == order.id, OrderEvent.to_status == OrderStatus.completed)
        .order_by(col(OrderEvent.seq).desc())
        .limit(1)
    ).first()
    return ActorType(actor) if actor is not None else None


def confirmed_by_many(session: Session, orders: list[Order]) -> dict[uuid.UUID, ActorType]:
    """`confirmed_by` of each completed order of a page, in one query."""
    ids = [order.id for order in orders if order.status == OrderStatus.completed]
    if not ids:
        return {}
    rows = session.exec(
        select(OrderEvent.order_id, OrderEvent.actor_type)
        .where(col(OrderEvent.order_id).in_(ids), OrderEvent.to_status == OrderStatus.completed)
        .order_by(col(OrderEvent.seq))
    )
    # Ascending: the last such event of an order is the one that stays.
    return {order_id: ActorType(actor) for order_id, actor in rows}


def merchant_fee(order: Order) -> int | None:
    """The merchant's fee on the order: fixed when it was matched (a pay-in) or created (a
    pay-out), recomputed on the actual amount when a dispute was settled with one."""
    if order.actual_amount_minor is not None and order.merchant_fee_bps is not None:
        return bps_of(order.actual_amount_minor, order.merchant_fee_bps)
    return order.fee_minor


def _amount(minor: int | None, units: int) -> str | None:
    return to_decimal(minor, units) if minor is not None else None


def _at(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def dispute_public(order: Order) -> DisputePublic | None:
    if order.disputed_at is None:
        return None
    return DisputePublic(
        opened_by=ActorType(order.dispute_opened_by or ActorType.system),
        reason=order.dispute_reason,
        opened_at=as_utc(order.disputed_at),
        escalated_at=_at(order.escalated_at),
        has_evidence=order.dispute_evidence_id is not None,
    )


def recipient_public(order: Order, decrypt: Callable[[str], str] | None = None) -> RecipientPublic:
    """Masked, except (with `decrypt`) for the trader who took the pay-out and must pay it."""
    if decrypt is not None and order.recipient_encrypted:
        number = decrypt(order.recipient_encrypted)
    else:
        number = mask_number(order.recipient_last4 or "")
    return RecipientPublic(
        kind=RecipientKind(order.recipient_kind or RecipientKind.card),
        number=number,
        bank_code=order.recipient_bank_code,
    )


def payout_public(
    session: Session,
    order: Order,
    decrypt: Callable[[str], str] | None = None,
    party: Party = "store",
) -> PayoutPublic:
    units = minor_units(session, order.currency)
    return PayoutPublic(
        **order.model_dump(
            include={"id", "merchant_order_id", "status", "failure_reason", "currency"}
        ),
        amount=to_decimal(order.amount_minor, units),
        fee=to_decimal(merchant_fee(order) or 0, units),
        recipient=recipient_public(order, decrypt),
        expires_at=_at(order.expires_at),
        pay_by=_at(order.trader_deadline_at),
        paid_at=_at(order.paid_at),
        review_until=_at(order.review_until),
        dispute=dispute_public(order),
        actual_amount=_amount(order.actual_amount_minor, units),
        created_at=as_utc(order.created_at),
        updated_at=as_utc(order.updated_at),
        finished_at=_at(order.finished_at),
        settlement=settlement_public(session, order, party),
    )


def payout_offer(session: Session, order: Order, reward_bps: int) -> PayoutOffer:
    units = minor_units(session, order.currency)
    return PayoutOffer(
        id=order.id,
        amount=to_decimal(order.amount_minor, units),
        currency=order.currency,
        recipient=recipient_public(order),
        reward=to_decimal(bps_of(order.amount_minor, reward_bps), units),
        expires_at=_at(order.expires_at),
    )


def balance_public(account: LedgerAccount, units: int) -> BalancePublic:
    return BalancePublic(
        currency=account.currency,
        balance=to_decimal(account.balance_minor, units),
        held=to_decimal(account.held_minor, units),
        available=to_decimal(account.balance_minor - account.held_minor, units),
    )


def requisite_public(requisite: Requisite) -> RequisitePublic:
    data = requisite.model_dump(exclude={"number_encrypted", "number_hash", "number_last4"})
    return RequisitePublic(**data, number_masked=mask_number(requisite.number_last4))


def delivery_public(
    delivery: CallbackDelivery, attempts: list[CallbackAttempt]
) -> CallbackDeliveryPublic:
    return CallbackDeliveryPublic(
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        url=delivery.url,
        status=delivery.status.value,
        attempts=[CallbackAttemptPublic.model_validate(a, from_attributes=True) for a in attempts],
        delivered_at=as_utc(delivery.delivered_at) if delivery.delivered_at else None,
        created_at=as_utc(delivery.created_at),
    )


def posting_public(session: Session, posting: Posting, units: int) -> PostingPublic:
    rows = session.exec(
        select(Entry, LedgerAccount)
        .join(LedgerAccount, col(LedgerAccount.id) == Entry.account_id)
        .where(Entry.posting_id == posting.id)
    ).all()
    entries = [
        EntryPublic(
            account_id=account.id,
            account_kind=account.kind,
            owner_id=account.owner_id,
            amount=to_decimal(entry.amount_minor, units),
        )
        for entry, account in rows
    ]
    return PostingPublic(**posting.model_dump(), entries=entries)


def order_summary(order: Order) -> str:
    """What ops read in the Temporal UI's list: `payin 1500.00 RUB · store 1a2b3c4d ·
    order-1001` (no customer or recipient data)."""
    amount = format_minor(order.requested_amount_minor, order.currency)
    store = str(order.store_id)[:8]
    return (
        f"{order.kind.value} {amount} {order.currency} · store {store} · {order.merchant_order_id}"
    )
