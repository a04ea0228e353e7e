"""Trader services: the profile, online switch, requisites, balances and open orders."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from contracts.processing import OPEN_STATUSES, OrderKind
from core.errors import Conflict
from core.security import SecretBox
from models.ledger import AccountKind, LedgerAccount
from models.orders import Order
from models.payins import BalancePublic, PayinPublic
from models.traders import (
    Bank,
    Currency,
    PaymentMethod,
    Requisite,
    RequisiteCreate,
    RequisitePublic,
    Trader,
    normalize_number,
    number_fingerprint,
)
from processing.errors import UnknownReference
from processing.views import balance_public, minor_units, payin_public, requisite_public


def trader_of(session: Session, *, user_id: uuid.UUID) -> Trader:
    """The user's trader profile, created on first use (inactive for pay-ins until set up)."""
    trader = session.exec(select(Trader).where(Trader.user_id == user_id)).first()
    if trader is None:
        trader = Trader(user_id=user_id)
        session.add(trader)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            trader = session.exec(select(Trader).where(Trader.user_id == user_id)).one()
    return trader


def set_online(session: Session, *, user_id: uuid.UUID, online: bool) -> Trader:
    trader = trader_of(session, user_id=user_id)
    trader.is_online = online
    session.add(trader)
    session.commit()
    session.refresh(trader)
    return trader


def balances(session: Session, *, trader_id: uuid.UUID) -> list[BalancePublic]:
    """Per currency: posted, held for open orders, available."""
    accounts = session.exec(
        select(LedgerAccount).where(
            LedgerAccount.kind == AccountKind.trader, LedgerAccount.owner_id == trader_id
        )
    ).all()
    return [balance_public(acc, minor_units(session, acc.currency)) for acc in accounts]


def open_orders(session: Session, *, trader_id: uuid.UUID) -> list[PayinPublic]:
    """Orders that still need the trader: awaiting payment, claimed, or disputed."""
    orders = session.exec(
        select(Order)
        .where(
            Order.trader_id == trader_id,
            Order.kind == OrderKind.payin,
            col(Order.status).in_(OPEN_STATUSES),
        )
        .order_by(col(Order.created_at))
    ).all()
    return [payin_public(session, order) for order in orders]


def check_reference(session: Session, body: RequisiteCreate) -> None:
    for model, code, field in (
        (Bank, body.bank_code, "bank_code"),
        (PaymentMethod, body.payment_method, "payment_method"),
        (Currency, body.currency, "currency"),
    ):
        if session.get(model, code) is None:
            raise UnknownReference(field, code)


def add_requisite(
    session: Session,
    *,
    trader_id: uuid.UUID,
    body: RequisiteCreate,
    secrets: SecretBox,
    fingerprint_key: str,
) -> RequisitePublic:
    """A new requisite, pending until an admin approves it; one number, one requisite."""
    check_reference(session, body)
    number = normalize_number(body.number)
    requisite = Requisite(
        **body.model_dump(exclude={"number"}),
        trader_id=trader_id,
        number_encrypted=secrets.encrypt(number),
        number_last4=number[-4:],
        number_hash=number_fingerprint(fingerprint_key, number),
    )
    session.add(requisite)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("This number is already registered", code="requisite_exists") from exc
    session.refresh(requisite)
    return requisite_public(requisite)


def requisites(session: Session, *, trader_id: uuid.UUID) -> list[RequisitePublic]:
    rows = session.exec(select(Requisite).where(Requisite.trader_id == trader_id)).all()
    return [requisite_public(r) for r in rows]
