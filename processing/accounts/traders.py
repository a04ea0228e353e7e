"""Trader services: the profile, online switch, requisites, balances and open orders."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from contracts.processing import OPEN_STATUSES, OrderKind
from core.errors import Conflict
from core.security import SecretBox
from models.base import utcnow
from models.ledger import AccountKind, LedgerAccount
from models.orders import Order
from models.payins import BalancePublic, PayinPublic
from models.traders import (
    Requisite,
    RequisiteCreate,
    RequisitePublic,
    Trader,
    normalize_number,
    number_fingerprint,
)
from processing.accounts.collateral import check_can_go_online
from processing.platform.reference_rules import (
    BANK,
    CURRENCY,
    PAYMENT_METHOD,
    require_offered,
    require_usable,
)
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
    """The trader's own switch; online only at or above the minimum working balance (409
    `below_min_working_balance`). Online clears the platform's reason for offline."""
    trader = trader_of(session, user_id=user_id)
    if online:
        check_can_go_online(session, trader.id)
        trader.offline_reason, trader.offline_since = None, None
    elif trader.is_online:
        trader.offline_reason, trader.offline_since = None, utcnow()
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
    return [payin_public(session, order, party="trader") for order in orders]


def check_reference(session: Session, body: RequisiteCreate) -> None:
    """Known and enabled reference codes, and a payment method the bank offers."""
    for kind, code, field in (
        (BANK, body.bank_code, "bank_code"),
        (PAYMENT_METHOD, body.payment_method, "payment_method"),
        (CURRENCY, body.currency, "currency"),
    ):
        require_usable(session, kind, code, field=field)
    require_offered(session, body.bank_code, body.payment_method)


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
