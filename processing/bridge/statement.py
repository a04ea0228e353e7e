"""The statement bridge's decisions: each new incoming credit on a requisite's linked bank
account is matched to that requisite's pay-ins — exactly once per transaction.

A credit of exactly one open order's payable amount, booked at or after its match, confirms
it (trader policy `auto`) or is offered to the trader (`suggest`). A credit that verifies an
order the trader already confirmed by hand is `verified`. Two candidates of the same amount,
or an amount within the store's shift step, are offered and the orders flagged for admin:
never guessed. A credit no order takes is an orphan for admin. The unique transaction id in
`statement_credits` makes a re-delivered or re-scanned transaction a no-op.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.processing import ActorRequest, ActorType, OrderKind, PayinStatus, PayinUpdate
from core.context import ServiceContext
from core.db import session_scope
from core.metrics import STATEMENT_BOOKING_TO_COMPLETED
from models.amounts import format_minor
from models.banking import BankAccount, BankTransaction, TransactionStatus
from models.base import as_utc, utcnow
from models.merchants import Store
from models.orders import Order, OrderEvent
from models.statement import CreditOutcome, StatementCredit
from models.traders import Requisite, Trader
from processing.errors import InvalidTransition
from processing.orders.actions import send_update

# Credits older than this are not scanned (a requisite linked today ignores last month).
LOOKBACK = timedelta(days=2)
CONFIRMABLE = (PayinStatus.awaiting_payment, PayinStatus.payment_claimed)
# Banks state booking times to the second (the emulator too), and their clocks are not ours:
# "booked at or after the match" is judged at the second, with this much allowance.
BOOKING_ALLOWANCE = timedelta(seconds=2)
NEAR_AMOUNT_FLAG = "near_amount_credit"
AMBIGUOUS_FLAG = "ambiguous_credit"
UNVERIFIED_FLAG = "unverified_confirmation"
OFFERED = (CreditOutcome.suggested, CreditOutcome.near_amount, CreditOutcome.ambiguous)


@dataclass(frozen=True)
class CreditDecision:
    transaction_id: uuid.UUID
    order_id: uuid.UUID | None
    outcome: CreditOutcome
    # "bank:transaction id": what the order's timeline names as the evidence.
    evidence: str
    booked_at: datetime | None = None
    amount_minor: int = 0
    currency: str = ""
    payer: str | None = None


def flag(order: Order, name: str) -> None:
    if name not in (order.flags or []):
        order.flags = [*(order.flags or []), name]


def hand_confirmed(session: Session, requisite_id: uuid.UUID, since: datetime) -> list[Order]:
    """Pay-ins on the requisite completed by their trader's own confirm since `since` that no
    credit has backed yet: a credit may still verify them."""
    by_trader = select(OrderEvent.order_id).where(
        OrderEvent.to_status == PayinStatus.completed, OrderEvent.actor_type == ActorType.trader
    )
    credited = select(StatementCredit.order_id).where(col(StatementCredit.order_id).is_not(None))
    query = select(Order).where(
        Order.requisite_id == requisite_id,
        Order.kind == OrderKind.payin,
        Order.status == PayinStatus.completed,
        col(Order.finished_at) >= since,
        col(Order.id).in_(by_trader),
        col(Order.id).not_in(credited),
    )
    return list(session.exec(query).all())


def open_payins(session: Session, requisite_id: uuid.UUID) -> list[Order]:
    query = select(Order).where(
        Order.requisite_id == requisite_id,
        Order.kind == OrderKind.payin,
        col(Order.status).in_(CONFIRMABLE),
    )
    return list(session.exec(query).all())


def scan_start(requisite: Requisite, now: datetime) -> datetime:
    """Credits booked before this are never decided: older than the lookback, or than the
    link itself."""
    start = now - LOOKBACK
    if requisite.linked_at is None:
        return start
    return max(start, as_utc(requisite.linked_at).replace(microsecond=0) - BOOKING_ALLOWANCE)


def decide_credits(
    engine: Engine, requisite_id: uuid.UUID, verify_window_s: int = 600
) -> list[CreditDecision]:
    """Decide every new incoming credit on the requisite's linked account, once. Orders the
    trader confirmed by hand within `verify_window_s` (the unverified-confirmation setting)
    may still be backed by a credit; older ones are past it (and flagged) — they no longer
    compete with open orders for a credit."""
    with session_scope(engine) as session:
        # One scan per requisite at a time: the row lock orders concurrent scans.
        requisite = session.exec(
            select(Requisite).where(Requisite.id == requisite_id).with_for_update()
        ).first()
        if requisite is None or requisite.linked_account_id is None:
            return []
        account = session.get(BankAccount, requisite.linked_account_id)
        trader = session.get(Trader, requisite.trader_id)
        assert account is not None and trader is not None
        now = utcnow()
        decided = select(StatementCredit.transaction_id)
        credits = session.exec(
            select(BankTransaction)
            .where(
                BankTransaction.account_id == account.id,
                col(BankTransaction.amount_minor) > 0,
                BankTransaction.status == TransactionStatus.booked,
                col(BankTransaction.booked_at) >= scan_start(requisite, now),
                col(BankTransaction.id).not_in(decided),
            )
            .order_by(col(BankTransaction.booked_at), col(BankTransaction.id))
        ).all()
        if not credits:
            return []
        candidates = Candidates(
            open_payins(session, requisite.id),
            hand_confirmed(session, requisite.id, now - timedelta(seconds=verify_window_s)),
        )
        return [_decide(session, tx, candidates, requisite, trader) for tx in credits]


@dataclass
class Candidates:
    open: list[Order]
    done: list[Order]


def _decide(
    session: Session,
    tx: BankTransaction,
    candidates: Candidates,
    requisite: Requisite,
    trader: Trader,
) -> CreditDecision:
    booked = as_utc(tx.booked_at)

    def matched_before(order: Order) -> bool:
        if order.matched_at is None:
            return False
        matched = as_utc(order.matched_at).replace(microsecond=0)
        return matched - BOOKING_ALLOWANCE <= booked

    eligible = [o for o in candidates.open if matched_before(o)]
    done = [o for o in candidates.done if matched_before(o)]
    exact = [o for o in eligible + done if o.amount_minor == tx.amount_minor]
    order: Order | None = None
    if len(exact) == 1:
        order = exact[0]
        if order in done:
            outcome = CreditOutcome.verified
            candidates.done.remove(order)
        elif trader.statement_policy == "auto":
            outcome = CreditOutcome.confirmed
            candidates.open.remove(order)  # one credit, one order
        else:
            outcome = CreditOutcome.suggested
    elif exact:
        # The same amount fits two orders (say, one confirmed by hand and a newer open one):
        # offer it, flag them all, decide nothing.
        order, outcome = exact[0], CreditOutcome.ambiguous
        for each in exact:
            flag(each, AMBIGUOUS_FLAG)
            session.add(each)
    else:
        steps = {o.store_id: _shift_step(session, o.store_id) for o in eligible}
        near = [o for o in eligible if abs(o.amount_minor - tx.amount_minor) <= steps[o.store_id]]
        if near:
            order = min(near, key=lambda o: abs(o.amount_minor - tx.amount_minor))
            outcome = CreditOutcome.near_amount
            flag(order, NEAR_AMOUNT_FLAG)
            session.add(order)
        else:
            outcome = CreditOutcome.orphan
    session.add(
        StatementCredit(
            transaction_id=tx.id,
            requisite_id=requisite.id,
            order_id=order.id if order else None,
            outcome=outcome,
            amount_minor=tx.amount_minor,
            booked_at=booked,
        )
    )
    return decision_of(tx, order.id if order else None, outcome)


def decision_of(
    tx: BankTransaction, order_id: uuid.UUID | None, outcome: CreditOutcome
) -> CreditDecision:
    return CreditDecision(
        tx.id,
        order_id,
        outcome,
        f"{tx.bank_code}:{tx.external_id}",
        as_utc(tx.booked_at),
        tx.amount_minor,
        tx.currency,
        tx.counterparty or tx.description,
    )


def unsent_confirms(engine: Engine, requisite_id: uuid.UUID) -> list[CreditDecision]:
    """Credits decided `confirmed` whose order is still open: the confirm is (re)sent. A scan
    that died between the decision and the confirm thus loses nothing."""
    with Session(engine) as session:
        rows = session.exec(
            select(StatementCredit, BankTransaction)
            .join(BankTransaction, col(BankTransaction.id) == StatementCredit.transaction_id)
            .join(Order, col(Order.id) == StatementCredit.order_id)
            .where(
                StatementCredit.requisite_id == requisite_id,
                StatementCredit.outcome == CreditOutcome.confirmed,
                col(Order.status).in_(CONFIRMABLE),
            )
        ).all()
        return [decision_of(tx, credit.order_id, credit.outcome) for credit, tx in rows]


def _shift_step(session: Session, store_id: uuid.UUID) -> int:
    store = session.get(Store, store_id)
    return store.amount_shift_step_minor if store else 0


def evidence_text(decision: CreditDecision) -> str:
    """The timeline's reason for a confirm by the statement: bank, transaction, booking time,
    amount and the payer as the bank wrote it."""
    parts = [f"credit {decision.evidence}"]
    if decision.booked_at is not None:
        parts.append(f"booked {decision.booked_at.isoformat()}")
    currency = decision.currency or "RUB"
    parts.append(f"amount {format_minor(decision.amount_minor, currency)} {currency}")
    if decision.payer:
        parts.append(f"from {decision.payer}")
    return "; ".join(parts)[:500]


def _not_confirmed(engine: Engine, transaction_id: uuid.UUID) -> None:
    """The order closed before the statement's confirm reached it: if its trader confirmed
    it meanwhile, the credit backs that confirmation; otherwise it is an orphan."""
    with session_scope(engine) as session:
        credit = session.exec(
            select(StatementCredit).where(StatementCredit.transaction_id == transaction_id)
        ).one()
        order = session.get(Order, credit.order_id) if credit.order_id else None
        if order is not None and order.status == PayinStatus.completed:
            by = session.exec(
                select(OrderEvent.actor_type).where(
                    OrderEvent.order_id == order.id, OrderEvent.to_status == order.status
                )
            ).first()
            # Completed by this very credit (a confirm answered, then retried): unchanged.
            if by != ActorType.bank_statement:
                credit.outcome = CreditOutcome.verified
        else:
            credit.outcome, credit.order_id = CreditOutcome.orphan, None
        session.add(credit)


async def confirm_by_statement(
    ctx: ServiceContext, client: Client, decision: CreditDecision
) -> bool:
    """Send the pay-in's workflow a confirm by `bank_statement`; False when the order can no
    longer be confirmed (the credit then verifies a confirm by hand, or is an orphan)."""
    assert decision.order_id is not None
    actor = ActorRequest(
        ActorType.bank_statement.value, decision.evidence[:64], evidence_text(decision)
    )
    try:
        await send_update(client, decision.order_id, PayinUpdate.confirm, actor)
    except InvalidTransition:
        await asyncio.to_thread(_not_confirmed, ctx.engine, decision.transaction_id)
        return False
    if decision.booked_at is not None:
        lag = (utcnow() - decision.booked_at).total_seconds()
        STATEMENT_BOOKING_TO_COMPLETED.observe(max(lag, 0.0))
    return True
