"""The steps of one bank's sync: accounts with balances, transactions, agreements, finish.

Transactions stream from the bank page by page into the database in batches (never the whole
history in memory). Bank failures surface as `banks.errors`; the activity layer maps them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from banks import BankError
from connect import bank_data as data
from connect.bank_access import BankAccess
from connect.bank_stores import acting_for
from connect.consent_flow import see_agreement_approval
from connect.consents import reusable_consent
from connect.records import account_record, agreement_record, balance_record, transaction_record
from contracts import connect as c
from models.base import utcnow
from models.connect import ConsentKind, ConsentStatus

TRANSACTION_BATCH = 500
Heartbeat = Callable[..., None]


async def sync_accounts(
    bank: BankAccess, inp: c.SyncInput, run_key: str, heartbeat: Heartbeat
) -> c.AccountsSynced:
    """Accounts and their balances (a snapshot row per balance)."""
    external, consent_id = await bank.accounts_consent(inp.user_id, inp.bank_code)
    run_id = await bank.db(data.start_sync_run, inp.user_id, inp.bank_code, run_key)
    client = bank.client(inp.bank_code)
    with acting_for(inp.user_id):
        accounts = await client.list_accounts(external, consent_id)
        refs = await bank.db(
            data.upsert_accounts, inp.user_id, inp.bank_code, [account_record(a) for a in accounts]
        )
        now = utcnow()
        # Every account's balances asked at once (the client keeps its own limit in flight).
        answers = await asyncio.gather(
            *(
                client.get_balances(
                    ref.external_id, external_client_id=external, consent_id=consent_id
                )
                for ref in refs
            )
        )
    per_account = [
        (ref.account_row_id, [balance_record(b, now) for b in balances])
        for ref, balances in zip(refs, answers, strict=True)
    ]
    await bank.db(data.save_all_balances, per_account)
    for ref in refs:
        heartbeat(ref.external_id)
    return c.AccountsSynced(run_id, refs)


class _TransactionWriter:
    """Stores an account's transactions a batch at a time, one batch being written while
    the next is filled from the bank: at most two batches in memory, whatever the history."""

    def __init__(self, bank: BankAccess, inp: c.AccountSyncInput, heartbeat: Heartbeat) -> None:
        self.bank, self.inp, self.heartbeat = bank, inp, heartbeat
        self.total = c.TransactionsSynced()
        self._batch: list[data.TransactionRecord] = []
        self._writing: asyncio.Task[None] | None = None

    async def add(self, record: data.TransactionRecord) -> None:
        self._batch.append(record)
        if len(self._batch) >= TRANSACTION_BATCH:
            await self._wait()
            self._writing, self._batch = asyncio.create_task(self._store(self._batch)), []

    async def _store(self, records: list[data.TransactionRecord]) -> None:
        self.heartbeat(len(records))
        inp = self.inp
        part: c.TransactionsSynced = await self.bank.db(
            data.store_transactions, inp.user_id, inp.bank_code, inp.account.account_row_id, records
        )
        self.total.seen += part.seen
        self.total.added += part.added
        self.total.updated += part.updated

    async def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    async def __aenter__(self) -> _TransactionWriter:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            await self._wait()
            await self._store(self._batch)
            return
        # The bank's error is the one to report; the batch being written finishes first.
        with contextlib.suppress(Exception):
            await self._wait()


async def sync_transactions(
    bank: BankAccess, inp: c.AccountSyncInput, heartbeat: Heartbeat
) -> c.TransactionsSynced:
    """New and changed transactions of one account since the last sync (with overlap).

    Pages stream into the database (a batch is stored while the next pages are fetched);
    the raw API log of the paging is written in the background, in batches.
    """
    external, consent_id = await bank.accounts_consent(inp.user_id, inp.bank_code)
    start = await bank.db(data.sync_window_start, inp.account.account_row_id, utcnow())
    async with bank.batched_logs(), _TransactionWriter(bank, inp, heartbeat) as writer:
        with acting_for(inp.user_id):
            stream = bank.client(inp.bank_code).iter_transactions(
                inp.account.external_id,
                external_client_id=external,
                consent_id=consent_id,
                from_dt=start,
            )
            async for tx in stream:
                await writer.add(transaction_record(tx))
    return writer.total


AWAITING = (
    "The request to read your loans and deposits awaits approval at the bank; "
    "press “I approved it” once it is approved"
)


def _unavailable(message: str) -> c.AgreementsSynced:
    return c.AgreementsSynced(0, c.BankWarning(c.WarningCode.agreements_unavailable, message))


async def sync_agreements(bank: BankAccess, inp: c.SyncInput) -> c.AgreementsSynced:
    """Loan, deposit and card agreements, with rate and balance from each one's detail.

    Optional data: whatever keeps them from us (no consent, a consent still pending at the
    bank, an error after the client's own retries) is a warning, never a failed sync.
    """
    kind = ConsentKind.product_agreements
    row = await bank.db(reusable_consent, inp.user_id, inp.bank_code, kind)
    if row is None:
        return _unavailable("No agreement consent at this bank")
    external = await bank.external_client(inp.user_id)
    client = bank.client(inp.bank_code)
    records = []
    try:
        row = await see_agreement_approval(bank, row)
        if row.status != ConsentStatus.authorized:
            return c.AgreementsSynced(
                0, c.BankWarning(c.WarningCode.agreements_awaiting_approval, AWAITING)
            )
        # Approved on the bank's side, the consent is known by its request id only.
        consent_id = row.consent_id or row.request_id
        with acting_for(inp.user_id):
            for agreement in await client.list_product_agreements(external, consent_id):
                detail = await client.get_product_agreement(
                    agreement.agreement_id, external_client_id=external, consent_id=consent_id
                )
                records.append(agreement_record(detail))
    except BankError as exc:
        return _unavailable(f"The bank did not give agreements: {exc}")
    count = await bank.db(data.upsert_agreements, inp.user_id, inp.bank_code, records)
    return c.AgreementsSynced(count)


async def finish(bank: BankAccess, finish: c.FinishSync, run_key: str) -> None:
    """Close the sync run (made here if the sync failed before it began) and set the bank's
    final state."""
    await bank.db(data.finish_sync, finish, run_key)
