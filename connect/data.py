"""A user's synced bank data as the API shows it: accounts, transactions, consents; and the
admin's raw API log. Every query is scoped to its owner."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, col, func, select

from connect.errors import AccountNotFound
from models.amounts import format_minor
from models.banking import (
    AccountPublic,
    BankAccount,
    BankTransaction,
    TransactionPage,
    TransactionPublic,
)
from models.connect import Consent, ConsentPublic, RawApiLog


def account_public(row: BankAccount) -> AccountPublic:
    return AccountPublic(
        **row.model_dump(exclude={"available_minor", "booked_minor"}),
        available=format_minor(row.available_minor, row.currency),
        booked=format_minor(row.booked_minor, row.currency),
    )


def accounts_of(session: Session, *, user_id: uuid.UUID) -> list[BankAccount]:
    query = select(BankAccount).where(BankAccount.user_id == user_id)
    return list(
        session.exec(query.order_by(col(BankAccount.bank_code), col(BankAccount.external_id)))
    )


def transactions_page(
    session: Session,
    *,
    user_id: uuid.UUID,
    date_from: datetime | None,
    date_to: datetime | None,
    account_id: uuid.UUID | None,
    page: int,
    page_size: int,
) -> TransactionPage:
    """The user's transactions, newest first, filtered by period and account."""
    query = select(BankTransaction).where(BankTransaction.user_id == user_id)
    if account_id is not None:
        owned = session.exec(
            select(BankAccount.id).where(
                BankAccount.id == account_id, BankAccount.user_id == user_id
            )
        ).first()
        if owned is None:
            raise AccountNotFound()
        query = query.where(BankTransaction.account_id == account_id)
    if date_from is not None:
        query = query.where(BankTransaction.booked_at >= date_from)
    if date_to is not None:
        query = query.where(BankTransaction.booked_at < date_to)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    ordered = query.order_by(col(BankTransaction.booked_at).desc(), col(BankTransaction.id))
    rows = session.exec(ordered.offset((page - 1) * page_size).limit(page_size))
    items = [
        TransactionPublic(
            **row.model_dump(exclude={"amount_minor"}),
            amount=format_minor(row.amount_minor, row.currency) or "0",
        )
        for row in rows
    ]
    return TransactionPage(items=items, page=page, page_size=page_size, total=total)


def consents_of(session: Session, *, user_id: uuid.UUID) -> list[ConsentPublic]:
    """The user's consents at every bank, newest first."""
    query = select(Consent).where(Consent.user_id == user_id)
    rows = session.exec(query.order_by(col(Consent.created_at).desc()))
    return [ConsentPublic.from_row(row) for row in rows]


def raw_logs(
    session: Session, *, user_id: uuid.UUID | None, bank_code: str | None, limit: int
) -> list[RawApiLog]:
    """Bank requests and responses (redacted), newest first."""
    query = select(RawApiLog)
    if user_id is not None:
        query = query.where(RawApiLog.user_id == user_id)
    if bank_code is not None:
        query = query.where(RawApiLog.bank_code == bank_code)
    return list(session.exec(query.order_by(col(RawApiLog.id).desc()).limit(limit)))
