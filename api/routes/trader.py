"""Trader API (JWT, role trader): work status, my open orders, confirm / cancel, requisites."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.deps import ContextDep, CurrentTrader, SessionDep, TemporalDep
from api.errors import AppError, ConflictError
from api.payin_ops import (
    balance_public,
    minor_units,
    owned_order,
    payin_public,
    store_receipt,
    update_and_read,
)
from contracts.processing import (
    OPEN_STATUSES,
    UPDATE_CANCEL,
    UPDATE_CONFIRM,
    ActorRequest,
    ActorType,
)
from core.security import mask_number
from models.ledger import AccountKind, LedgerAccount
from models.orders import Order
from models.payins import BalancePublic, PayinPublic, TraderCancelRequest
from models.traders import (
    Bank,
    Currency,
    PaymentMethod,
    Requisite,
    RequisiteCreate,
    RequisitePublic,
    Trader,
    TraderPublic,
    normalize_number,
    number_fingerprint,
)
from models.users import User

router = APIRouter()


def trader_of(session: Session, user: User) -> Trader:
    """The trader profile of this user, created on first use (inactive for pay-ins until set up)."""
    trader = session.exec(select(Trader).where(Trader.user_id == user.id)).first()
    if trader is None:
        trader = Trader(user_id=user.id)
        session.add(trader)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            trader = session.exec(select(Trader).where(Trader.user_id == user.id)).one()
    return trader


def requisite_public(requisite: Requisite) -> RequisitePublic:
    data = requisite.model_dump(exclude={"number_encrypted", "number_hash", "number_last4"})
    return RequisitePublic(**data, number_masked=mask_number(requisite.number_last4))


def set_online(session: Session, user: User, online: bool) -> Trader:
    trader = trader_of(session, user)
    trader.is_online = online
    session.add(trader)
    session.commit()
    session.refresh(trader)
    return trader


@router.post("/online", response_model=TraderPublic)
def go_online(session: SessionDep, user: CurrentTrader) -> Trader:
    """Start taking orders."""
    return set_online(session, user, True)


@router.post("/offline", response_model=TraderPublic)
def go_offline(session: SessionDep, user: CurrentTrader) -> Trader:
    """Stop taking new orders (open ones still need confirming)."""
    return set_online(session, user, False)


@router.get("/balances", response_model=list[BalancePublic])
def balances(session: SessionDep, user: CurrentTrader) -> list[BalancePublic]:
    """My balances per currency: posted, held for open orders, available."""
    trader = trader_of(session, user)
    accounts = session.exec(
        select(LedgerAccount).where(
            LedgerAccount.kind == AccountKind.trader, LedgerAccount.owner_id == trader.id
        )
    ).all()
    return [balance_public(acc, minor_units(session, acc.currency)) for acc in accounts]


@router.get("/orders", response_model=list[PayinPublic])
def my_open_orders(session: SessionDep, ctx: ContextDep, user: CurrentTrader) -> list[PayinPublic]:
    """My orders that still need me: awaiting payment, claimed, or disputed."""
    trader = trader_of(session, user)
    orders = session.exec(
        select(Order)
        .where(Order.trader_id == trader.id, col(Order.status).in_(OPEN_STATUSES))
        .order_by(col(Order.created_at))
    ).all()
    return [payin_public(session, ctx, order) for order in orders]


@router.post("/orders/{order_id}/confirm", response_model=PayinPublic)
async def confirm_received(
    order_id: uuid.UUID,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    user: CurrentTrader,
    receipt: Annotated[UploadFile | None, File()] = None,
) -> PayinPublic:
    """The money arrived on my requisite; optionally attach my own receipt."""
    trader = await asyncio.to_thread(trader_of, session, user)
    order = await asyncio.to_thread(owned_order, session, order_id, trader_id=trader.id)
    if order.status not in OPEN_STATUSES:
        raise ConflictError(f"The order is {order.status.value}", code="invalid_transition")
    if receipt is not None:
        await store_receipt(ctx, order, receipt, ActorType.trader, str(trader.id))
    request = ActorRequest(ActorType.trader.value, str(trader.id), None)
    return await update_and_read(
        session, ctx, client, order.id, UPDATE_CONFIRM, request, trader_id=trader.id
    )


@router.post("/orders/{order_id}/cancel", response_model=PayinPublic)
async def cancel_order(
    order_id: uuid.UUID,
    body: TraderCancelRequest,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    user: CurrentTrader,
) -> PayinPublic:
    """Cancel an order before confirming it, with a reason (audited)."""
    trader = await asyncio.to_thread(trader_of, session, user)
    order = await asyncio.to_thread(owned_order, session, order_id, trader_id=trader.id)
    request = ActorRequest(ActorType.trader.value, str(trader.id), body.reason)
    return await update_and_read(
        session, ctx, client, order.id, UPDATE_CANCEL, request, trader_id=trader.id
    )


def check_reference(session: Session, body: RequisiteCreate) -> None:
    for model, code, field in (
        (Bank, body.bank_code, "bank_code"),
        (PaymentMethod, body.payment_method, "payment_method"),
        (Currency, body.currency, "currency"),
    ):
        if session.get(model, code) is None:
            raise AppError(f"Unknown {field} {code!r}", code=f"unknown_{field}", status_code=422)


@router.post("/requisites", status_code=status.HTTP_201_CREATED, response_model=RequisitePublic)
def create_requisite(
    body: RequisiteCreate, session: SessionDep, ctx: ContextDep, user: CurrentTrader
) -> RequisitePublic:
    """Add a requisite; it takes orders once an admin approves it."""
    trader = trader_of(session, user)
    check_reference(session, body)
    number = normalize_number(body.number)
    requisite = Requisite(
        **body.model_dump(exclude={"number"}),
        trader_id=trader.id,
        number_encrypted=ctx.secrets.encrypt(number),
        number_last4=number[-4:],
        number_hash=number_fingerprint(ctx.settings.fernet_key.get_secret_value(), number),
    )
    session.add(requisite)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError("This number is already registered", code="requisite_exists") from exc
    session.refresh(requisite)
    return requisite_public(requisite)


@router.get("/requisites", response_model=list[RequisitePublic])
def list_requisites(
    session: SessionDep, ctx: ContextDep, user: CurrentTrader
) -> list[RequisitePublic]:
    """My requisites, numbers masked."""
    trader = trader_of(session, user)
    rows = session.exec(select(Requisite).where(Requisite.trader_id == trader.id)).all()
    return [requisite_public(r) for r in rows]
