"""Storing synced transactions: bulk inserts per batch, dedupe, in-place updates, idempotence,
batches stored while the next pages are fetched, the paging's raw log written in batches (on
PostgreSQL and on SQLite, whichever the suite runs on)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from banks import BankUnavailableError, RawApiLogEntry
from connect.bank_access import BankAccess
from connect.bank_data import (
    AccountRecord,
    TransactionRecord,
    store_transactions,
    upsert_accounts,
)
from connect.bank_stores import DbRawLogSink, acting_for
from connect.sync import _TransactionWriter
from contracts import connect as c
from core.context import ServiceContext
from models.banking import AccountKind, BankTransaction, TransactionStatus
from models.connect import RawApiLog
from models.users import Role
from tests.factories import create_user

START = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _record(
    n: int, status: TransactionStatus = TransactionStatus.booked, amount: int = -100
) -> TransactionRecord:
    return TransactionRecord(
        external_id=f"tx-{n:06d}",
        booked_at=START + timedelta(minutes=n),
        value_at=None,
        amount_minor=amount - n,
        currency="RUB",
        status=status,
        description=f"Покупка {n}",
        bank_tx_code="PMT",
        mcc="5411",
        merchant_name="Магазин",
        merchant_category="Groceries",
        counterparty=None,
        card_masked="**** 1234",
    )


@pytest.fixture
def account(ctx: ServiceContext) -> tuple[str, str]:
    """(user id, account row id) of a fresh user with one checking account at VBank."""
    user = create_user(ctx.engine, Role.connect_user)
    record = AccountRecord("acc-1", "Checking", AccountKind.liquid, "RUB", None, None, "Enabled")
    refs = upsert_accounts(ctx.engine, str(user.id), "vbank", [record])
    return str(user.id), refs[0].account_row_id


def _stored(ctx: ServiceContext, account_row_id: str) -> list[BankTransaction]:
    with Session(ctx.engine) as session:
        query = select(BankTransaction).where(
            BankTransaction.account_id == uuid.UUID(account_row_id)
        )
        return list(session.exec(query))


def test_many_pages_are_all_stored_and_a_resync_adds_nothing(
    ctx: ServiceContext, account: tuple[str, str]
) -> None:
    user_id, account_id = account
    records = [_record(n) for n in range(1250)]
    added = 0
    for start in range(0, len(records), 500):
        part = store_transactions(
            ctx.engine, user_id, "vbank", account_id, records[start : start + 500]
        )
        assert part.seen == len(records[start : start + 500])
        added += part.added
    assert added == 1250
    rows = _stored(ctx, account_id)
    assert len(rows) == 1250
    assert {r.external_id for r in rows} == {r.external_id for r in records}
    first = next(r for r in rows if r.external_id == "tx-000007")
    assert (first.amount_minor, first.status, first.user_id) == (
        -107,
        TransactionStatus.booked,
        uuid.UUID(user_id),
    )
    assert first.booked_at.replace(tzinfo=UTC) == START + timedelta(minutes=7)
    assert (first.merchant_name, first.card_masked, first.is_own_transfer) == (
        "Магазин",
        "**** 1234",
        False,
    )

    # The same pages again (a re-sync with overlap): nothing added, changed or duplicated.
    again = store_transactions(ctx.engine, user_id, "vbank", account_id, records[:700])
    assert (again.seen, again.added, again.updated) == (700, 0, 0)
    assert len(_stored(ctx, account_id)) == 1250


def test_a_pending_transaction_booked_later_is_updated_in_place(
    ctx: ServiceContext, account: tuple[str, str]
) -> None:
    user_id, account_id = account
    pending = _record(1, TransactionStatus.pending)
    first = store_transactions(ctx.engine, user_id, "vbank", account_id, [pending, _record(2)])
    assert (first.added, first.updated) == (2, 0)
    booked = _record(1, TransactionStatus.booked, amount=-150)
    later = store_transactions(ctx.engine, user_id, "vbank", account_id, [booked, _record(2)])
    assert (later.seen, later.added, later.updated) == (2, 0, 1)
    rows = {r.external_id: r for r in _stored(ctx, account_id)}
    assert len(rows) == 2
    assert (rows["tx-000001"].status, rows["tx-000001"].amount_minor) == (
        TransactionStatus.booked,
        -151,
    )


def test_an_id_repeated_in_one_batch_is_stored_once(
    ctx: ServiceContext, account: tuple[str, str]
) -> None:
    user_id, account_id = account
    result = store_transactions(
        ctx.engine, user_id, "vbank", account_id, [_record(1), _record(2), _record(1)]
    )
    assert (result.seen, result.added) == (2, 2)
    assert len(_stored(ctx, account_id)) == 2
    empty = store_transactions(ctx.engine, user_id, "vbank", account_id, [])
    assert (empty.seen, empty.added, empty.updated) == (0, 0, 0)


async def test_pages_stream_into_the_database_while_the_next_are_fetched(
    ctx: ServiceContext, account: tuple[str, str]
) -> None:
    user_id, account_id = account
    inp = c.AccountSyncInput(user_id, "vbank", "", c.AccountRef(account_id, "acc-1"))
    beats: list[int] = []
    async with _TransactionWriter(BankAccess(ctx), inp, beats.append) as writer:
        for n in range(1234):
            await writer.add(_record(n))
    assert (writer.total.seen, writer.total.added, writer.total.updated) == (1234, 1234, 0)
    assert beats == [500, 500, 234]
    assert len(_stored(ctx, account_id)) == 1234


async def test_a_bank_error_mid_paging_keeps_the_stored_batches_and_is_what_fails(
    ctx: ServiceContext, account: tuple[str, str]
) -> None:
    user_id, account_id = account
    inp = c.AccountSyncInput(user_id, "vbank", "", c.AccountRef(account_id, "acc-1"))
    with pytest.raises(BankUnavailableError):
        async with _TransactionWriter(BankAccess(ctx), inp, lambda _: None) as writer:
            for n in range(700):
                await writer.add(_record(n))
            raise BankUnavailableError("vbank GET /transactions: 503", bank_code="vbank")
    # The batch handed to the database before the error is stored whole; the rest is not.
    assert len(_stored(ctx, account_id)) == 500


async def test_batched_raw_logs_are_all_written_when_the_block_ends(
    ctx: ServiceContext, account: tuple[str, str]
) -> None:
    user_id, _ = account
    sink = DbRawLogSink(ctx.engine)
    run = uuid.uuid4().hex[:12]

    def entry(n: int) -> RawApiLogEntry:
        return RawApiLogEntry(
            "vbank", "GET", f"/accounts/acc-1/transactions?page={n}", 200, None, "{}",
            f"{run}-{n}", 3, None, 1, None, datetime.now(UTC),
        )  # fmt: skip

    async with sink.batched():
        with acting_for(user_id):
            for n in range(40):
                await sink.record(entry(n))
    with acting_for(user_id):
        await sink.record(entry(40))  # outside a batch: written before record returns
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(RawApiLog).where(col(RawApiLog.correlation_id).startswith(run))
        ).all()
    assert len(rows) == 82
    assert {r.user_id for r in rows} == {uuid.UUID(user_id)}
    assert {r.direction for r in rows} == {"request", "response"}
    assert {r.correlation_id for r in rows} == {f"{run}-{n}" for n in range(41)}
