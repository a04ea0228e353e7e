"""Analytics against the database (sync code, run in the worker's thread pool).

Re-categorising writes `category` / `is_own_transfer` back onto the stored transactions,
with the same rules and own-transfer pairing the snapshot uses, so the transaction list
and the dashboard agree. A snapshot is a new row each time (history); old ones are pruned.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Row, Table, delete, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from analytics import (
    AnalyticsSettings,
    CategoryRule,
    TransactionInput,
    categorise,
    categorise_all,
    compute_snapshot,
)
from analytics.categories import OWN_TRANSFER
from analytics.income import spending_by_day
from analytics.inputs import TxKey
from analytics.snapshot import spending_transactions
from connect.analytics_inputs import (
    account_input,
    is_loan_account,
    products_inputs,
    rule_from_row,
    transaction_input,
)
from connect.bulk_rows import update_rows
from connect.dashboard import refresh_document
from contracts.analytics import RecategoriseResult, SnapshotResult
from core.db import session_scope
from models.analytics import AnalyticsSnapshot, CategoryRuleRow
from models.analytics_views import dashboard_block
from models.banking import BankAccount, BankTransaction, ProductAgreement

# Six-hourly refreshes for a month, plus a margin for manual syncs and rule changes.
SNAPSHOTS_KEPT = 150
DAILY_SPENDING_DAYS = 91
# Transactions read per query by a rebuild (a keyset page).
TRANSACTIONS_PAGE = 1000


class StoredCategory(NamedTuple):
    """A stored transaction's row id and the category written on it."""

    id: uuid.UUID
    category: str | None
    is_own_transfer: bool


@dataclass
class UserRows:
    accounts: list[BankAccount]
    agreements: list[ProductAgreement]
    # Every transaction that moved money (declined ones did not), uncategorised, and what is
    # stored for each: the history is read as plain columns, never as ORM objects.
    transactions: list[TransactionInput]
    stored: dict[TxKey, StoredCategory]
    rules: list[CategoryRule]
    # Loan accounts by (bank, the bank's account id), as `TransactionInput.account_key`.
    loan_accounts: set[tuple[str, str]] = field(default_factory=set)


_TRANSACTIONS: Table = BankTransaction.__table__  # type: ignore[attr-defined]
# What `transaction_input` reads, and the stored category.
_TRANSACTION_COLUMNS = [
    _TRANSACTIONS.c[name]
    for name in (
        "id",
        "category",
        "is_own_transfer",
        "account_id",
        "bank_code",
        "external_id",
        "booked_at",
        "amount_minor",
        "currency",
        "status",
        "description",
        "bank_tx_code",
        "mcc",
        "merchant_name",
        "merchant_category",
        "counterparty",
    )
]


def load_rules(session: Session) -> list[CategoryRule]:
    return [rule_from_row(row) for row in session.exec(select(CategoryRuleRow))]


def _transaction_rows(session: Session, user_id: uuid.UUID) -> Iterator[Row[Any]]:
    """The user's transactions in (booked_at, id) order, a keyset page at a time: each page
    is a range of `ix_bank_transactions_user_booked`. One query for all of them is a
    sequential scan of the whole table once a user holds a large share of it (the planner's
    choice for the bench's heavy user, 14% of the rows), read again on every rebuild."""
    booked, key = _TRANSACTIONS.c.booked_at, _TRANSACTIONS.c.id
    query = select(*_TRANSACTION_COLUMNS).where(_TRANSACTIONS.c.user_id == user_id)
    after: tuple[Any, Any] | None = None
    while True:
        page = (
            query if after is None else query.where(booked >= after[0], tuple_(booked, key) > after)
        )
        rows = session.execute(page.order_by(booked, key).limit(TRANSACTIONS_PAGE)).all()
        yield from rows
        if len(rows) < TRANSACTIONS_PAGE:
            return
        after = (rows[-1].booked_at, rows[-1].id)


def load_user_rows(session: Session, user_id: uuid.UUID) -> UserRows:
    accounts = list(session.exec(select(BankAccount).where(BankAccount.user_id == user_id)))
    agreements = list(
        session.exec(select(ProductAgreement).where(ProductAgreement.user_id == user_id))
    )
    external = {acc.id: acc.external_id for acc in accounts}
    txs: list[TransactionInput] = []
    stored: dict[TxKey, StoredCategory] = {}
    for row in _transaction_rows(session, user_id):
        # A row of these columns reads like the model (`transaction_input` uses attributes).
        tx = transaction_input(cast(BankTransaction, row), external)
        if tx is not None:
            txs.append(tx)
            stored[tx.key] = StoredCategory(row.id, row.category, row.is_own_transfer)
    loans = {(acc.bank_code, acc.external_id) for acc in accounts if is_loan_account(acc)}
    return UserRows(accounts, agreements, txs, stored, load_rules(session), loans)


def categorised_inputs(rows: UserRows, settings: AnalyticsSettings) -> list[TransactionInput]:
    """The inputs categorised exactly as `compute_snapshot` does."""
    usable = [tx for tx in rows.transactions if tx.account_key not in rows.loan_accounts]
    on_loans = [tx for tx in rows.transactions if tx.account_key in rows.loan_accounts]
    categorised = categorise_all(usable, rows.rules, settings.own_transfer_window)
    # A loan account's own movements mirror payments made elsewhere: never own transfers.
    categorised += [replace(tx, category=categorise(tx, rows.rules)) for tx in on_loans]
    return categorised


def write_categories(
    session: Session, by_key: dict[TxKey, StoredCategory], categorised: list[TransactionInput]
) -> int:
    """Store each transaction's category and own-transfer flag; returns how many changed."""
    changes: list[dict[str, Any]] = []
    for tx in categorised:
        row = by_key[tx.key]
        own = tx.category == OWN_TRANSFER
        if row.category != tx.category or row.is_own_transfer != own:
            changes.append({"id": row.id, "category": tx.category, "is_own_transfer": own})
    # One bulk statement (Core: no ORM bookkeeping per row).
    update_rows(session.connection(), _TRANSACTIONS, "id", changes)
    return len(changes)


def recategorise_user(engine: Engine, user_id: str) -> RecategoriseResult:
    with session_scope(engine) as session:
        rows = load_user_rows(session, uuid.UUID(user_id))
        categorised = categorised_inputs(rows, AnalyticsSettings())
        changed = write_categories(session, rows.stored, categorised)
    return RecategoriseResult(user_id, changed)


def snapshot_data(
    rows: UserRows,
    settings: AnalyticsSettings,
    as_of: datetime,
) -> dict[str, Any]:
    """The full snapshot JSON, plus 90 days of daily spending for the summary views."""
    txs = rows.transactions
    loans, deposits = products_inputs(rows.agreements, rows.accounts)
    accounts = [account_input(acc) for acc in rows.accounts]
    snapshot = compute_snapshot(accounts, txs, loans, deposits, rows.rules, settings, as_of)
    data = snapshot.to_dict()
    # The same transactions as the period summaries, so a period's days sum to its spending.
    counted = spending_transactions(accounts, txs, rows.rules, settings)
    data["daily_spending"] = {
        currency: spending_by_day(
            [t for t in counted if t.currency == currency], as_of, DAILY_SPENDING_DAYS
        )
        for currency in data["currencies"]
    }
    return data


def compute_and_store(engine: Engine, user_id: str, as_of: datetime) -> SnapshotResult:
    """Re-apply categories, compute the snapshot as of `as_of`, store it and prune history."""
    owner = uuid.UUID(user_id)
    settings = AnalyticsSettings()
    with session_scope(engine) as session:
        rows = load_user_rows(session, owner)
        # The categorised copies are let go before the snapshot is computed (peak memory).
        changed = write_categories(session, rows.stored, categorised_inputs(rows, settings))
        data = snapshot_data(rows, settings, as_of)
        row = AnalyticsSnapshot(
            user_id=owner, as_of=as_of, data=data, dashboard=dashboard_block(data)
        )
        session.add(row)
        session.flush()
        prune_snapshots(session, owner)
        refresh_document(session, owner)
    return SnapshotResult(user_id, str(row.id), as_of.isoformat(), changed)


def prune_snapshots(session: Session, user_id: uuid.UUID, keep: int = SNAPSHOTS_KEPT) -> None:
    kept = (
        select(AnalyticsSnapshot.id)
        .where(AnalyticsSnapshot.user_id == user_id)
        .order_by(col(AnalyticsSnapshot.computed_at).desc())
        .limit(keep)
    )
    session.execute(
        delete(AnalyticsSnapshot).where(
            col(AnalyticsSnapshot.user_id) == user_id, col(AnalyticsSnapshot.id).not_in(kept)
        )
    )


def users_with_accounts(engine: Engine, after: str | None, limit: int) -> list[str]:
    """User ids holding bank accounts, in id order after the cursor (a page)."""
    query = select(BankAccount.user_id).distinct().order_by(col(BankAccount.user_id))
    if after is not None:
        query = query.where(col(BankAccount.user_id) > uuid.UUID(after))
    with Session(engine) as session:
        return [str(uid) for uid in session.exec(query.limit(limit))]
