"""What merchants, traders and admins see of processing rows (never the rows themselves).

Requisite numbers are masked to their last four digits everywhere except the one place a
customer must see the number to pay (`full_number=True`, the create reply).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, col, select

from core.security import mask_number
from models.amounts import to_decimal
from models.base import as_utc
from models.ledger import Entry, EntryPublic, LedgerAccount, Posting, PostingPublic
from models.orders import CallbackAttempt, CallbackDelivery, Order
from models.payins import (
    BalancePublic,
    CallbackAttemptPublic,
    CallbackDeliveryPublic,
    PayinPublic,
    PaymentRequisite,
)
from models.traders import Currency, Requisite, RequisitePublic


def mask_holder(name: str) -> str:
    """'Ivan Petrov' → 'Ivan P.': enough for the customer to recognise, not to identify."""
    first, *rest = name.split()
    return " ".join([first, *(part[0] + "." for part in rest)])


def minor_units(session: Session, currency: str) -> int:
    row = session.get(Currency, currency)
    return row.minor_units if row else 2


def payin_public(
    session: Session,
    order: Order,
    decrypt: Callable[[str], str] | None = None,
) -> PayinPublic:
    """The order as the API shows it; with `decrypt` the requisite number is shown in full."""
    units = minor_units(session, order.currency)
    requisite = None
    if order.requisite_id is not None:
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
