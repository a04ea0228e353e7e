"""Storing synced bank data: accounts, balances, transactions, agreements (sync code).

Transactions are deduplicated by (bank, account, transaction id); a pending transaction that
comes back booked updates its row instead of adding a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from connect.bulk_rows import insert_missing, stored_versions, update_rows
from connect.connection_updates import apply_connection_update
from connect.dashboard import mark_stale
from contracts import connect as c
from core.db import session_scope
from models.banking import (
    AccountKind,
    BalanceSnapshot,
    BankAccount,
    BankTransaction,
    ProductAgreement,
    SyncRun,
    TransactionStatus,
)
from models.base import as_utc, new_id, utcnow

# Re-read this far back from the newest stored booking, so late-booked entries are not missed.
OVERLAP = timedelta(days=7)
FIRST_SYNC_HISTORY = timedelta(days=400)
# What identifies a stored transaction (the unique constraint `uq_bank_transactions_external`).
TRANSACTION_KEY = ["bank_code", "account_id", "external_id"]


@dataclass
class AccountRecord:
    external_id: str
    sub_type: str
    kind: AccountKind
    currency: str
    nickname: str | None
    number_masked: str | None
    status: str
    opening_date: date | None = None


@dataclass
class BalanceRecord:
    balance_type: str
    amount_minor: int
    currency: str
    as_of: datetime


@dataclass
class TransactionRecord:
    external_id: str
    booked_at: datetime
    value_at: datetime | None
    amount_minor: int
    currency: str
    status: TransactionStatus
    description: str | None
    bank_tx_code: str | None
    mcc: str | None
    merchant_name: str | None
    merchant_category: str | None
    counterparty: str | None
    card_masked: str | None


def _sync_run_id(run_key: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"sync-run:{run_key}")


def _sync_run(session: Session, user_id: str, bank_code: str, run_key: str) -> SyncRun:
    run = session.get(SyncRun, _sync_run_id(run_key))
    if run is None:
        run = SyncRun(id=_sync_run_id(run_key), user_id=uuid.UUID(user_id), bank_code=bank_code)
        session.add(run)
        session.flush()
    return run


def start_sync_run(engine: Engine, user_id: str, bank_code: str, run_key: str) -> str:
    """The sync run row for this workflow run (created once, however often retried)."""
    with session_scope(engine) as session:
        return str(_sync_run(session, user_id, bank_code, run_key).id)


def _upsert(
    session: Session,
    model: type[BankAccount] | type[ProductAgreement],
    owner: uuid.UUID,
    bank_code: str,
    key: str,
    records: Sequence[AccountRecord] | Sequence[AgreementRecord],
) -> list[Any]:
    """Rows of one user and bank, matched on the bank's own id: updated, or created."""
    query = select(model).where(model.user_id == owner, model.bank_code == bank_code)
    existing = {getattr(row, key): row for row in session.exec(query)}
    rows = []
    for record in records:
        values = dict(record.__dict__)
        row = existing.get(values[key]) or model(user_id=owner, bank_code=bank_code, **values)
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def upsert_accounts(
    engine: Engine, user_id: str, bank_code: str, records: Sequence[AccountRecord]
) -> list[c.AccountRef]:
    with session_scope(engine) as session:
        rows = _upsert(session, BankAccount, uuid.UUID(user_id), bank_code, "external_id", records)
        mark_stale(session, uuid.UUID(user_id))
        return [c.AccountRef(str(row.id), row.external_id) for row in rows]


def save_all_balances(
    engine: Engine, per_account: Sequence[tuple[str, Sequence[BalanceRecord]]]
) -> None:
    """Snapshot rows for history, and the current available / booked figures on each
    account: one transaction for all of a bank's accounts."""
    owners: set[uuid.UUID] = set()
    with session_scope(engine) as session:
        for account_row_id, balances in per_account:
            account = session.get(BankAccount, uuid.UUID(account_row_id))
            if account is None:
                raise LookupError(f"account {account_row_id} not found")
            _apply_balances(session, account, balances)
            owners.add(account.user_id)
        for user_id in owners:
            mark_stale(session, user_id)


def _apply_balances(
    session: Session, account: BankAccount, balances: Sequence[BalanceRecord]
) -> None:
    for balance in balances:
        session.add(BalanceSnapshot(account_id=account.id, **balance.__dict__))
        kind = balance.balance_type.lower()
        if "available" in kind or kind in {"expected", "closingavailable"}:
            account.available_minor = balance.amount_minor
        elif "booked" in kind:
            account.booked_minor = balance.amount_minor
        account.balance_at = balance.as_of
    if account.available_minor is None and account.booked_minor is not None:
        account.available_minor = account.booked_minor
    session.add(account)


def sync_window_start(engine: Engine, account_row_id: str, now: datetime) -> datetime:
    """Where an incremental sync starts: newest booking minus the overlap, or the oldest
    still-pending transaction, whichever is earlier; a year and more on the first sync."""
    account_id = uuid.UUID(account_row_id)
    with Session(engine) as session:
        newest = session.exec(
            select(func.max(BankTransaction.booked_at)).where(
                BankTransaction.account_id == account_id,
                BankTransaction.status == TransactionStatus.booked,
            )
        ).one()
        oldest_pending = session.exec(
            select(func.min(BankTransaction.booked_at)).where(
                BankTransaction.account_id == account_id,
                BankTransaction.status == TransactionStatus.pending,
            )
        ).one()
    if newest is None:
        return now - FIRST_SYNC_HISTORY
    start = as_utc(newest) - OVERLAP
    return min(start, as_utc(oldest_pending)) if oldest_pending else start


_TRANSACTIONS: Table = BankTransaction.__table__  # type: ignore[attr-defined]


def store_transactions(
    engine: Engine,
    user_id: str,
    bank_code: str,
    account_row_id: str,
    records: Sequence[TransactionRecord],
) -> c.TransactionsSynced:
    """Insert new transactions, update ones whose status or amount changed, skip the rest.

    One batch (a few pages) in one transaction, without an ORM object per row: the stored
    status and amount of the batch's ids are read (never the whole history), the new rows go
    in as one bulk insert that skips ids stored meanwhile, and the changed ones are updated.
    """
    account_id = uuid.UUID(account_row_id)
    unique = {record.external_id: record for record in records}
    result = c.TransactionsSynced(seen=len(unique))
    if not unique:
        return result
    table, scope = _TRANSACTIONS, {"bank_code": bank_code, "account_id": account_id}
    with engine.begin() as conn:
        stored = stored_versions(
            conn, table, scope, "external_id", list(unique), ["id", "status", "amount_minor"]
        )
        new = [
            {**record.__dict__, "id": new_id(), "status": record.status.value}
            for external_id, record in unique.items()
            if external_id not in stored
        ]
        constants = {**scope, "user_id": uuid.UUID(user_id), "is_own_transfer": False}
        result.added = insert_missing(
            conn, table, {**constants, "created_at": utcnow()}, new, TRANSACTION_KEY
        )
        # Pending → booked (or a corrected amount) replaces the row in place.
        changed = [
            {
                "id": stored[external_id][0],
                "status": record.status.value,
                "amount_minor": record.amount_minor,
                "booked_at": record.booked_at,
                "value_at": record.value_at,
            }
            for external_id, record in unique.items()
            if external_id in stored
            and stored[external_id][1:] != (record.status, record.amount_minor)
        ]
        update_rows(conn, table, "id", changed)
        result.updated = len(changed)
    return result


@dataclass
class AgreementRecord:
    agreement_id: str
    product_id: str | None
    product_name: str | None
    product_type: str
    amount_minor: int | None
    status: str
    start_date: datetime | None
    end_date: datetime | None
    account_number_masked: str | None
    interest_rate: object
    balance_minor: int | None


def upsert_agreements(
    engine: Engine, user_id: str, bank_code: str, records: Sequence[AgreementRecord]
) -> int:
    with session_scope(engine) as session:
        owner = uuid.UUID(user_id)
        rows = _upsert(session, ProductAgreement, owner, bank_code, "agreement_id", records)
        for row in rows:
            row.updated_at = utcnow()
    return len(records)


def finish_sync(engine: Engine, finish: c.FinishSync, run_key: str) -> None:
    """Close the sync run and set the connection's final state, in one transaction. A sync
    that failed before its run row was made (the accounts call) gets a closed row too."""
    result = finish.result
    with session_scope(engine) as session:
        run = _sync_run(session, result.user_id, result.bank_code, run_key)
        run.status, run.error, run.finished_at = result.status, result.error, utcnow()
        run.accounts, run.agreements = result.accounts, result.agreements
        run.transactions_seen = result.transactions_seen
        run.transactions_added = result.transactions_added
        run.transactions_updated = result.transactions_updated
        session.add(run)
        update = c.ConnectionUpdate(
            result.user_id,
            result.bank_code,
            result.status,
            "done",
            100,
            result.error,
            synced=result.status == "ready",
            warnings=result.warnings,
        )
        apply_connection_update(session, update)
