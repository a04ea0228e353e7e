"""The statement reads an account's lines by the entries' own `posted_at` (migration 0026):
every new entry carries its posting's time, an account with entries not yet dated (the
previous release wrote them during a deploy) reads the same pages by the postings' dates,
and the migration and `launcher.backfill_posted_at` date the rows already there."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text, update
from sqlmodel import Session, col, select

from core.context import ServiceContext
from core.migrate import upgrade
from launcher.backfill_posted_at import fill_posted_at
from models.ledger import AccountKind, Entry, LedgerAccount, Posting
from models.merchants import Merchant, Store
from processing.accounts import cabinet
from processing.ledger.postings import deposit
from tests.conftest import scratch_database
from tests.processing.conftest import make_store, new_currency


def pages(ctx: ServiceContext, owner: uuid.UUID, store_id: uuid.UUID, currency: str) -> list[Any]:
    """Every page of the store's statement, three lines each, as the API returns them."""
    found, cursor = [], None
    with Session(ctx.engine) as session:
        while True:
            page = cabinet.statement(
                session, user_id=owner, store_id=store_id, currency=currency, cursor=cursor, limit=3
            )
            found.append(page.model_dump())
            cursor = page.next_cursor
            if cursor is None:
                return found


def account_entries(ctx: ServiceContext, store_id: uuid.UUID) -> list[tuple[Entry, Posting]]:
    with Session(ctx.engine) as session:
        query = (
            select(Entry, Posting)
            .join(Posting, col(Posting.id) == Entry.posting_id)
            .join(LedgerAccount, col(LedgerAccount.id) == Entry.account_id)
            .where(LedgerAccount.kind == AccountKind.store, LedgerAccount.owner_id == store_id)
            .order_by(col(Posting.created_at), col(Entry.id))
        )
        return list(session.exec(query).all())


def test_undated_entries_read_the_same_pages_until_the_backfill_dates_them(
    ctx: ServiceContext,
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    with Session(ctx.engine) as session:
        for i in range(8):
            deposit(session, store.store_id, currency, 100 * (i + 1), f"dates-{uuid.uuid4()}",
                    AccountKind.store)  # fmt: skip
            session.commit()
        owner = session.exec(
            select(Merchant.owner_user_id)
            .join(Store, col(Store.merchant_id) == Merchant.id)
            .where(Store.id == store.store_id)
        ).one()
    written = account_entries(ctx, store.store_id)
    assert len(written) == 8
    assert all(entry.posted_at == posting.created_at for entry, posting in written)
    dated = pages(ctx, owner, store.store_id, currency)
    assert [len(p["lines"]) for p in dated] == [3, 3, 2]
    assert dated[-1]["lines"][-1]["balance_after"] == "36.00"

    # The previous release writes entries without a date: same lines, same cursors.
    undated = [entry.id for entry, _ in written[2:5]]
    with ctx.engine.begin() as conn:
        conn.execute(update(Entry).where(col(Entry.id).in_(undated)).values(posted_at=None))
    assert pages(ctx, owner, store.store_id, currency) == dated

    assert fill_posted_at(ctx.engine, batch=2) >= len(undated)
    assert all(entry.posted_at == posting.created_at for entry, posting in account_entries(
        ctx, store.store_id))  # fmt: skip
    assert pages(ctx, owner, store.store_id, currency) == dated


ACCOUNT = "INSERT INTO ledger_accounts (id, kind, currency, balance_minor, held_minor, "
ACCOUNT += "frozen_minor, allow_negative, created_at) VALUES (:id, 'store', 'RUB', 0, 0, 0, "
ACCOUNT += "false, :at)"
POSTING = "INSERT INTO ledger_postings (id, idempotency_key, kind, created_at) "
POSTING += "VALUES (:id, :key, 'deposit', :at)"
ENTRY = "INSERT INTO ledger_entries (id, posting_id, account_id, amount_minor) "
ENTRY += "VALUES (:id, :posting, :account, :amount)"


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_the_migration_dates_the_entries_already_there(kind: str, tmp_path: Path) -> None:
    with scratch_database(kind, tmp_path, "jivapay_posted_at") as url:
        upgrade(url, "0025")
        engine = create_engine(url)
        ids = (lambda: uuid.uuid4()) if kind == "postgresql" else (lambda: uuid.uuid4().hex)
        account, times = ids(), {}
        with engine.begin() as conn:
            conn.execute(text(ACCOUNT), {"id": account, "at": "2026-01-01 00:00:00"})
            for day in range(1, 8):
                posting, at = ids(), f"2026-01-0{day} 12:00:00"
                conn.execute(text(POSTING), {"id": posting, "key": f"k{day}", "at": at})
                for amount in (day, -day):
                    entry = ids()
                    conn.execute(text(ENTRY), {"id": entry, "posting": posting,
                                               "account": account, "amount": amount})  # fmt: skip
                    times[str(entry).replace("-", "")] = at
        upgrade(url, "0026")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, posted_at FROM ledger_entries")).all()
        engine.dispose()
    assert len(rows) == 14
    assert {str(i).replace("-", ""): str(at)[:19] for i, at in rows} == times
