"""Reference data an administrator edits: currencies (fiat and crypto), banks, payment
methods and which bank offers which method.

Codes never change (rows elsewhere name them). A code in use anywhere (`reference_rules`)
is never deleted, only disabled; a currency's minor units change only while it is in use
nowhere, since stored amounts are counted in them. The caller audits (the route's session)
and tells every process once committed (`reference.reference_changed`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from core.errors import Conflict, NotFound
from models.reference import BankAdmin, BankMethodRef, BankPaymentMethod
from processing.accounts.admin import sent_fields
from processing.platform.reference_rules import BANK, CURRENCY, PAYMENT_METHOD, Kind, used_by


def _get(session: Session, kind: Kind, code: str) -> Any:
    row = session.get(kind.model, code)
    if row is None:
        raise NotFound(f"No {kind.word.replace('_', ' ')} {code!r}", code=f"{kind.word}_not_found")
    return row


def _in_use(kind: Kind, code: str, where: list[str]) -> Conflict:
    return Conflict(
        f"The {kind.word.replace('_', ' ')} {code!r} is in use: disable it instead",
        code=f"{kind.word}_in_use",
        details={"used_by": where},
    )


def _commit(session: Session, kind: Kind, code: str, error: Conflict) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        # A concurrent writer won the race: a row with this code, or one that names it.
        raise error from exc


def listing(session: Session, kind: Kind) -> list[Any]:
    """Every row, disabled ones too, by code."""
    return list(session.exec(select(kind.model).order_by(col(kind.model.code))))


def create(session: Session, kind: Kind, body: SQLModel) -> Any:
    """A new row; its code taken already is 409 `<kind>_exists`."""
    code = body.code  # type: ignore[attr-defined]
    exists = Conflict(
        f"The {kind.word.replace('_', ' ')} {code!r} exists", code=f"{kind.word}_exists"
    )
    if session.get(kind.model, code) is not None:
        raise exists
    row = kind.model.model_validate(body.model_dump())
    session.add(row)
    _commit(session, kind, code, exists)
    session.refresh(row)
    return row


def update(session: Session, kind: Kind, code: str, body: SQLModel) -> Any:
    """The fields sent change, the others stay (null refused: `null_not_allowed`)."""
    row = _get(session, kind, code)
    changes = sent_fields(kind.model, body)
    units = changes.get("minor_units")
    if units is not None and units != getattr(row, "minor_units", units):
        where = used_by(session, kind, code)
        if where:
            raise _in_use(kind, code, where)
    row.sqlmodel_update(changes)
    session.add(row)
    _commit(session, kind, code, _in_use(kind, code, []))
    session.refresh(row)
    return row


def remove(session: Session, kind: Kind, code: str) -> None:
    """Delete a row in use nowhere (409 `<kind>_in_use` otherwise, nothing changed); a bank's
    or a method's offers go with it."""
    row = _get(session, kind, code)
    where = used_by(session, kind, code)
    if where:
        raise _in_use(kind, code, where)
    if kind is not CURRENCY:
        column = BankPaymentMethod.bank_code if kind is BANK else BankPaymentMethod.payment_method
        for offer in session.exec(select(BankPaymentMethod).where(col(column) == code)):
            session.delete(offer)
    session.delete(row)
    _commit(session, kind, code, _in_use(kind, code, ["(a row added meanwhile)"]))


def _methods_of(session: Session) -> dict[str, list[str]]:
    offers: dict[str, list[str]] = {}
    query = select(BankPaymentMethod).order_by(col(BankPaymentMethod.payment_method))
    for offer in session.exec(query):
        offers.setdefault(offer.bank_code, []).append(offer.payment_method)
    return offers


def banks(session: Session) -> list[BankAdmin]:
    """Every bank, with the payment methods it offers."""
    offers = _methods_of(session)
    return [
        BankAdmin(**bank.model_dump(), payment_methods=offers.get(bank.code, []))
        for bank in listing(session, BANK)
    ]


def bank(session: Session, code: str) -> BankAdmin:
    row = _get(session, BANK, code)
    return BankAdmin(**row.model_dump(), payment_methods=_methods_of(session).get(code, []))


def offer(session: Session, bank_code: str, method: str) -> tuple[BankMethodRef, bool]:
    """The bank offers the method from now on (again: nothing changes); True if new."""
    _get(session, BANK, bank_code)
    _get(session, PAYMENT_METHOD, method)
    pair = BankMethodRef(bank_code=bank_code, payment_method=method)
    if session.get(BankPaymentMethod, (bank_code, method)) is not None:
        return pair, False
    session.add(BankPaymentMethod(bank_code=bank_code, payment_method=method))
    try:
        session.commit()
    except IntegrityError:  # offered meanwhile by another request: the same outcome
        session.rollback()
        return pair, False
    return pair, True


def withdraw_offer(session: Session, bank_code: str, method: str) -> None:
    """New requisites may no longer pair them; existing requisites keep working."""
    _get(session, BANK, bank_code)
    _get(session, PAYMENT_METHOD, method)
    row = session.get(BankPaymentMethod, (bank_code, method))
    if row is not None:  # row by row, so the audit sees it
        session.delete(row)
        session.commit()
