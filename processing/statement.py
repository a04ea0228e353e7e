"""The statement bridge's decisions: each new incoming credit on a requisite's linked bank
account is matched to that requisite's open pay-ins — exactly once per transaction.

A credit of exactly an open order's payable amount, booked at or after its match, confirms
it (trader policy `auto`) or is offered to the trader (`suggest`). A credit within the
store's shift step of an open order is offered and the order flagged for admin: never
guessed. A credit no open order takes is an orphan for admin. The unique transaction id in
`statement_credits` makes a re-delivered or re-scanned transaction a no-op.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.processing import ActorRequest, ActorType, OrderKind, PayinStatus, PayinUpdate
from core.context import ServiceContext
from core.db import session_scope
from models.banking import BankAccount, BankTransaction, TransactionStatus
from models.base import as_utc, utcnow
from models.merchants import Store
from models.orders import Order
from models.statement import CreditOutcome, StatementCredit
from models.traders import Requisite, Trader
from processing.actions import send_update
from processing.errors import InvalidTransition

# Credits older than this are not scanned (a requisite linked today ignores last month).
LOOKBACK = timedelta(days=2)
CONFIRMABLE = (PayinStatus.awaiting_payment, PayinStatus.payment_claimed)
NEAR_AMOUNT_FLAG = "near_amount_credit"


@dataclass(frozen=True)
class CreditDecision:
    transaction_id: uuid.UUID
    order_id: uuid.UUID | None
    outcome: CreditOutcome
    # "bank:transaction id": what the order's timeline names as the evidence.
    evidence: str


def _flag(order: Order, flag: str) -> None:
    if flag not in (order.flags or []):
        order.flags = [*(order.flags or []), flag]


def decide_credits(engine: Engine, requisite_id: uuid.UUID) -> list[CreditDecision]:
    """Decide every new incoming credit on the requisite's linked account, once."""
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
        decided = select(StatementCredit.transaction_id)
        credits = session.exec(
            select(BankTransaction)
            .where(
                BankTransaction.account_id == account.id,
                col(BankTransaction.amount_minor) > 0,
                BankTransaction.status == TransactionStatus.booked,
                col(BankTransaction.booked_at) >= utcnow() - LOOKBACK,
                col(BankTransaction.id).not_in(decided),
            )
            .order_by(col(BankTransaction.booked_at), col(BankTransaction.id))
        ).all()
        orders = list(
            session.exec(
                select(Order).where(
                    Order.requisite_id == requisite.id,
                    Order.kind == OrderKind.payin,
                    col(Order.status).in_(CONFIRMABLE),
                )
            ).all()
        )
        return [_decide(session, tx, orders, requisite, trader) for tx in credits]


def _decide(
    session: Session,
    tx: BankTransaction,
    orders: list[Order],
    requisite: Requisite,
    trader: Trader,
) -> CreditDecision:
    booked = as_utc(tx.booked_at)
    eligible = [o for o in orders if o.matched_at and as_utc(o.matched_at) <= booked]
    exact = [o for o in eligible if o.amount_minor == tx.amount_minor]
    order: Order | None = None
    if len(exact) == 1:
        order = exact[0]
        auto = trader.statement_policy == "auto"
        outcome = CreditOutcome.confirmed if auto else CreditOutcome.suggested
    else:
        steps = {o.store_id: _shift_step(session, o.store_id) for o in eligible}
        near = [o for o in eligible if abs(o.amount_minor - tx.amount_minor) <= steps[o.store_id]]
        if near:
            order = min(near, key=lambda o: abs(o.amount_minor - tx.amount_minor))
            outcome = CreditOutcome.near_amount
            _flag(order, NEAR_AMOUNT_FLAG)
            session.add(order)
        else:
            outcome = CreditOutcome.orphan
    if order is not None and outcome == CreditOutcome.confirmed:
        orders.remove(order)  # one credit, one order; the next credit looks at the rest
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
    return CreditDecision(
        tx.id, order.id if order else None, outcome, f"{tx.bank_code}:{tx.external_id}"
    )


def _shift_step(session: Session, store_id: uuid.UUID) -> int:
    store = session.get(Store, store_id)
    return store.amount_shift_step_minor if store else 0


async def confirm_by_statement(
    ctx: ServiceContext, client: Client, decision: CreditDecision
) -> bool:
    """Send the pay-in's workflow a confirm by `bank_statement`; False (and the credit becomes
    an orphan) when the order can no longer be confirmed."""
    assert decision.order_id is not None
    actor = ActorRequest(
        ActorType.bank_statement.value, decision.evidence[:64], f"credit {decision.evidence}"
    )
    try:
        await send_update(client, decision.order_id, PayinUpdate.confirm, actor)
    except InvalidTransition:
        with session_scope(ctx.engine) as session:
            credit = session.exec(
                select(StatementCredit).where(
                    StatementCredit.transaction_id == decision.transaction_id
                )
            ).one()
            credit.outcome, credit.order_id = CreditOutcome.orphan, None
            session.add(credit)
        return False
    return True
