"""Pay-out evidence from the trader's own statement: an outgoing debit on a linked account of
exactly a taken pay-out's amount, booked after the take, naming the recipient's last four
digits (card or phone, as the bank shows the counterparty), is attached to the pay-out —
a timeline entry that keeps the status, and a `payout_debit` row so it is used once.

A debit of the amount that does not name the recipient is not evidence: never guessed.
"""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contracts.processing import ActorType, OrderKind, PayoutStatus, TransitionInput
from core.db import session_scope
from models.amounts import format_minor
from models.banking import BankTransaction, TransactionStatus
from models.base import as_utc
from models.orders import Order
from models.statement import CreditOutcome, StatementCredit
from models.traders import Requisite
from processing.bridge.statement import BOOKING_ALLOWANCE
from processing.orders.lifecycle import audit, lock_order

OPEN_PAYOUTS = (PayoutStatus.assigned, PayoutStatus.paid)


def open_payouts(session: Session, trader_id: uuid.UUID, currency: str) -> list[Order]:
    query = select(Order).where(
        Order.trader_id == trader_id,
        Order.kind == OrderKind.payout,
        Order.currency == currency,
        col(Order.status).in_(OPEN_PAYOUTS),
        col(Order.id).not_in(
            select(StatementCredit.order_id).where(
                StatementCredit.outcome == CreditOutcome.payout_debit
            )
        ),
    )
    return list(session.exec(query).all())


def _names_recipient(tx: BankTransaction, last4: str | None) -> bool:
    shown = " ".join(filter(None, (tx.card_masked, tx.counterparty, tx.description)))
    return bool(last4) and str(last4) in shown


def attach_debits(engine: Engine, trader_id: uuid.UUID) -> int:
    """Attach each new matching debit to its pay-out; how many were attached."""
    attached = 0
    with session_scope(engine) as session:
        linked = session.exec(
            select(Requisite).where(
                Requisite.trader_id == trader_id, col(Requisite.linked_account_id).is_not(None)
            )
        ).all()
        for requisite in linked:
            payouts = open_payouts(session, trader_id, requisite.currency)
            taken = [as_utc(p.assigned_at) for p in payouts if p.assigned_at]
            if not taken:
                continue
            since = min(taken).replace(microsecond=0) - BOOKING_ALLOWANCE
            debits = session.exec(
                select(BankTransaction).where(
                    BankTransaction.account_id == requisite.linked_account_id,
                    col(BankTransaction.amount_minor) < 0,
                    BankTransaction.status == TransactionStatus.booked,
                    col(BankTransaction.booked_at) >= since,
                    col(BankTransaction.id).not_in(select(StatementCredit.transaction_id)),
                )
            ).all()
            for tx in debits:
                order = _match(tx, payouts)
                if order is None:
                    continue
                payouts.remove(order)
                _attach(session, requisite, order, tx)
                attached += 1
    return attached


def _match(tx: BankTransaction, payouts: list[Order]) -> Order | None:
    booked = as_utc(tx.booked_at)
    fits = [
        p
        for p in payouts
        if p.assigned_at is not None
        and as_utc(p.assigned_at).replace(microsecond=0) - BOOKING_ALLOWANCE <= booked
        and p.amount_minor == -tx.amount_minor
        and _names_recipient(tx, p.recipient_last4)
    ]
    return fits[0] if len(fits) == 1 else None


def _attach(session: Session, requisite: Requisite, order: Order, tx: BankTransaction) -> None:
    locked = lock_order(session, str(order.id))
    amount = format_minor(-tx.amount_minor, tx.currency)
    reason = (
        f"debit {tx.bank_code}:{tx.external_id}; booked {as_utc(tx.booked_at).isoformat()};"
        f" amount {amount} {tx.currency}; to ****{order.recipient_last4}"
    )
    actor = TransitionInput(
        str(order.id),
        "",
        "",
        ActorType.bank_statement.value,
        f"{tx.bank_code}:{tx.external_id}"[:64],
        reason,
    )
    audit(session, locked, locked.status, actor)
    session.add(locked)
    session.add(
        StatementCredit(
            transaction_id=tx.id,
            requisite_id=requisite.id,
            order_id=order.id,
            outcome=CreditOutcome.payout_debit,
            amount_minor=tx.amount_minor,
            booked_at=as_utc(tx.booked_at),
        )
    )
