"""A user's synced bank data as the API shows it: accounts, transactions, consents; and the
admin's raw API log. Every query is scoped to its owner."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import tuple_
from sqlmodel import Session, col, func, select

from connect.errors import AccountNotFound
from core.cursors import decode_cursor, encode_cursor
from core.errors import Invalid
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


# `total` counts at most this many rows (then `total_exact` is false): an exact count of a
# heavy user's year of transactions would read all of them on every page.
TOTAL_CAP = 1_000


def transactions_page(
    session: Session,
    *,
    user_id: uuid.UUID,
    date_from: datetime | None,
    date_to: datetime | None,
    account_id: uuid.UUID | None,
    page: int,
    page_size: int,
    cursor: str | None = None,
) -> TransactionPage:
    """The user's transactions, newest first, filtered by period and account.

    Pages by `cursor` (keyset on (booked_at, id): a deep page costs what the first does) or,
    as before, by `page` number; never both."""
    if cursor is not None and page != 1:
        raise Invalid("give either page or cursor, not both", code="cursor_with_page")
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
    # In the index's order: without it the planner reads a heavy user's first 1,001 rows
    # with a sequential scan of the table (it holds them early), on every page.
    capped = (
        query.with_only_columns(col(BankTransaction.id))
        .order_by(col(BankTransaction.booked_at).desc())
        .limit(TOTAL_CAP + 1)
    )
    counted = session.exec(select(func.count()).select_from(capped.subquery())).one()
    ordered = query.order_by(col(BankTransaction.booked_at).desc(), col(BankTransaction.id).desc())
    if cursor is not None:
        after = tuple_(col(BankTransaction.booked_at), col(BankTransaction.id))
        ordered = ordered.where(after < decode_cursor(cursor))
    else:
        ordered = ordered.offset((page - 1) * page_size)
    rows = list(session.exec(ordered.limit(page_size + 1)))
    more, rows = len(rows) > page_size, rows[:page_size]
    items = [
        TransactionPublic(
            **row.model_dump(exclude={"amount_minor"}),
            amount=format_minor(row.amount_minor, row.currency) or "0",
        )
        for row in rows
    ]
    return TransactionPage(
        items=items,
        page=page,
        page_size=page_size,
        total=min(counted, TOTAL_CAP),
        total_exact=counted <= TOTAL_CAP,
        next_cursor=encode_cursor(rows[-1].booked_at, rows[-1].id) if more else None,
    )


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
