"""The trader's side of the statement bridge: link a requisite to a synced bank account (the
account's number checked at the bank, not trusted), the confirmation policy, what the
statement offers, and the admin's list of decided credits.

A trader is a Connect user: they connect their bank with the same onboarding (consent →
sync) under their own sandbox identity; `GET /api/accounts` then lists the accounts to link.
"""

from __future__ import annotations

import asyncio
import hmac
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, cast, literal_column, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from temporalio.client import Client

from banks.errors import BankError, BankRateLimitedError, ConsentRequiredError
from connect.bank_access import BankAccess
from connect.errors import NoLiveConsent
from contracts.connect import BANK_CODES
from core.context import ServiceContext
from core.db import session_scope
from core.errors import Conflict, Invalid, NotFound, Unavailable
from models.amounts import format_minor
from models.banking import BankAccount, BankTransaction
from models.base import utcnow
from models.orders import Order
from models.statement import (
    CreditOutcome,
    CreditPublic,
    FlaggedOrder,
    RequisiteLink,
    StatementCredit,
    StatementView,
    Suggestion,
)
from models.traders import Requisite, RequisitePublic, Trader, normalize_number
from processing.bridge import statement
from processing.bridge.watch import ensure_watch
from processing.views import requisite_public


@dataclass(frozen=True)
class _LinkPlan:
    user_id: str
    bank_code: str
    external_id: str
    number: str  # the requisite's number, decrypted: compared, never logged or returned


def _plan(
    ctx: ServiceContext, trader: Trader, requisite_id: uuid.UUID, body: RequisiteLink
) -> _LinkPlan:
    if body.bank not in BANK_CODES:
        raise Invalid(f"Unknown bank {body.bank!r}", code="unknown_bank")
    with Session(ctx.engine) as session:
        requisite = session.get(Requisite, requisite_id)
        if requisite is None or requisite.trader_id != trader.id:
            raise NotFound("Requisite not found", code="requisite_not_found")
        account = session.get(BankAccount, body.account_id)
        if account is None or account.user_id != trader.user_id or account.bank_code != body.bank:
            raise NotFound(
                "No such synced account at this bank: connect the bank and sync it first",
                code="account_not_found",
            )
        if account.currency != requisite.currency:
            raise Invalid(
                f"The account is in {account.currency}, the requisite in {requisite.currency}",
                code="currency_mismatch",
            )
        number = normalize_number(ctx.secrets.decrypt(requisite.number_encrypted))
        return _LinkPlan(str(trader.user_id), account.bank_code, account.external_id, number)


async def _number_at_bank(ctx: ServiceContext, plan: _LinkPlan) -> str | None:
    """The account's number as the bank states it now (through the trader's consent)."""
    bank = BankAccess(ctx)
    try:
        external, consent_id = await bank.accounts_consent(plan.user_id, plan.bank_code)
        accounts = await bank.client(plan.bank_code).list_accounts(external, consent_id)
    except (ConsentRequiredError, NoLiveConsent) as exc:
        raise Conflict(
            f"{plan.bank_code} has no live consent: reconnect the bank first",
            code="consent_required",
        ) from exc
    except BankRateLimitedError as exc:
        raise Unavailable("The bank is rate limiting; try again shortly", code="bank_busy") from exc
    except BankError as exc:
        raise Unavailable(f"The bank did not answer: {exc.code}", code="bank_unavailable") from exc
    finally:
        await bank.close()
    found = next((a for a in accounts if a.account_id == plan.external_id), None)
    if found is None:
        raise NotFound("The bank no longer lists this account", code="account_not_found")
    return normalize_number(found.identification) if found.identification else None


def _save_link(
    ctx: ServiceContext, requisite_id: uuid.UUID, account_id: uuid.UUID
) -> tuple[RequisitePublic, int]:
    try:
        with session_scope(ctx.engine) as session:
            requisite = session.get(Requisite, requisite_id, with_for_update=True)
            assert requisite is not None
            if requisite.linked_account_id != account_id:
                requisite.linked_account_id, requisite.linked_at = account_id, utcnow()
                session.add(requisite)
                session.flush()
            opened = len(statement.open_payins(session, requisite_id))
            return requisite_public(requisite), opened
    except IntegrityError as exc:
        raise Conflict(
            "This account is already linked to another requisite", code="account_already_linked"
        ) from exc


async def link(
    ctx: ServiceContext,
    client: Client,
    trader: Trader,
    requisite_id: uuid.UUID,
    body: RequisiteLink,
) -> RequisitePublic:
    """Link when the bank's number for the account equals the requisite's; open orders on
    the requisite are watched from now on."""
    plan = await asyncio.to_thread(_plan, ctx, trader, requisite_id, body)
    at_bank = await _number_at_bank(ctx, plan)
    if at_bank is None or not hmac.compare_digest(at_bank, plan.number):
        raise Invalid(
            "The account's number at the bank is not the requisite's number",
            code="account_number_mismatch",
        )
    public, opened = await asyncio.to_thread(_save_link, ctx, requisite_id, body.account_id)
    if opened:
        await ensure_watch(client, ctx.settings.temporal_task_queue, trader.id)
    return public


def unlink(session: Session, trader: Trader, requisite_id: uuid.UUID) -> RequisitePublic:
    requisite = session.get(Requisite, requisite_id)
    if requisite is None or requisite.trader_id != trader.id:
        raise NotFound("Requisite not found", code="requisite_not_found")
    requisite.linked_account_id, requisite.linked_at = None, None
    session.add(requisite)
    session.commit()
    session.refresh(requisite)
    return requisite_public(requisite)


def set_policy(session: Session, trader: Trader, policy: str) -> StatementView:
    row = session.get(Trader, trader.id)
    assert row is not None
    row.statement_policy = policy
    session.add(row)
    session.commit()
    return view(session, row)


def view(session: Session, trader: Trader) -> StatementView:
    linked = session.exec(
        select(Requisite.id).where(
            Requisite.trader_id == trader.id, col(Requisite.linked_account_id).is_not(None)
        )
    ).all()
    rows = session.exec(
        select(StatementCredit, Order, BankTransaction)
        .join(Order, col(Order.id) == StatementCredit.order_id)
        .join(BankTransaction, col(BankTransaction.id) == StatementCredit.transaction_id)
        .where(
            Order.trader_id == trader.id,
            col(Order.status).in_(statement.CONFIRMABLE),
            col(StatementCredit.outcome).in_(statement.OFFERED),
        )
        .order_by(col(StatementCredit.booked_at))
    ).all()
    suggestions = [
        Suggestion(
            order_id=order.id,
            order_amount=format_minor(order.amount_minor, order.currency) or "",
            credit_amount=format_minor(credit.amount_minor, order.currency) or "",
            currency=order.currency,
            outcome=credit.outcome,
            booked_at=credit.booked_at,
            evidence=f"{tx.bank_code}:{tx.external_id}",
            payer=tx.counterparty or tx.description,
        )
        for credit, order, tx in rows
    ]
    return StatementView(
        policy=trader.statement_policy,
        status=trader.statement_status,
        error=trader.statement_error,
        checked_at=trader.statement_checked_at,
        linked_requisites=list(linked),
        suggestions=suggestions,
    )


def credits(session: Session, *, outcome: CreditOutcome | None, limit: int) -> list[CreditPublic]:
    """Decided credits, newest first (admin): orphans are money no open order took."""
    query = select(StatementCredit).order_by(col(StatementCredit.created_at).desc()).limit(limit)
    if outcome is not None:
        query = query.where(StatementCredit.outcome == outcome)
    return [
        CreditPublic(
            **row.model_dump(exclude={"amount_minor"}),
            amount=format_minor(row.amount_minor) or "",
        )
        for row in session.exec(query).all()
    ]


def _carrying(flag: str) -> ColumnElement[bool]:
    """The JSON list matched as text (both databases)."""
    return cast(Order.flags, String).like(f'%"{flag}"%')


# The predicate of the partial index `ix_orders_flagged` (the few flagged orders): a query
# that names it reads that index instead of every order.
_FLAGGED = cast(Order.flags, String) != literal_column("'null'")


def flagged(session: Session, *, flag: str, limit: int) -> list[FlaggedOrder]:
    """Pay-ins carrying `flag`, newest first."""
    query = (
        select(Order)
        .where(_FLAGGED, _carrying(flag))
        .order_by(col(Order.updated_at).desc())
        .limit(limit)
    )
    return [
        FlaggedOrder(
            **order.model_dump(include={"id", "currency", "trader_id", "requisite_id"}),
            status=order.status.value,
            amount=format_minor(order.amount_minor, order.currency) or "",
            flags=order.flags or [],
            finished_at=order.finished_at,
            updated_at=order.updated_at,
        )
        for order in session.exec(query).all()
    ]


def flagged_count(session: Session, flags: tuple[str, ...]) -> int:
    """Orders carrying any of `flags`, counted in the database."""
    query = select(func.count()).select_from(Order).where(_FLAGGED, or_(*map(_carrying, flags)))
    return int(session.exec(query).one())
