"""The steps of one bank's sync: accounts with balances, transactions, agreements, finish.

Transactions stream from the bank page by page into the database in batches (never the whole
history in memory). Bank failures surface as `banks.errors`; the activity layer maps them.
"""

from __future__ import annotations

from collections.abc import Callable

from banks import BankError
from connect import bank_data as data
from connect.bank_access import BankAccess
from connect.bank_stores import acting_for
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
        for ref in refs:
            balances = await client.get_balances(
                ref.external_id, external_client_id=external, consent_id=consent_id
            )
            records = [balance_record(b, now) for b in balances]
            await bank.db(data.save_balances, ref.account_row_id, records)
            heartbeat(ref.external_id)
    return c.AccountsSynced(run_id, refs)


async def sync_transactions(
    bank: BankAccess, inp: c.AccountSyncInput, heartbeat: Heartbeat
) -> c.TransactionsSynced:
    """New and changed transactions of one account since the last sync (with overlap)."""
    external, consent_id = await bank.accounts_consent(inp.user_id, inp.bank_code)
    start = await bank.db(data.sync_window_start, inp.account.account_row_id, utcnow())
    total, batch = c.TransactionsSynced(), []

    async def store(records: list[data.TransactionRecord]) -> None:
        heartbeat(len(records))
        part: c.TransactionsSynced = await bank.db(
            data.store_transactions,
            inp.user_id,
            inp.bank_code,
            inp.account.account_row_id,
            records,
        )
        total.seen, total.added = total.seen + part.seen, total.added + part.added
        total.updated += part.updated

    with acting_for(inp.user_id):
        stream = bank.client(inp.bank_code).iter_transactions(
            inp.account.external_id,
            external_client_id=external,
            consent_id=consent_id,
            from_dt=start,
        )
        async for tx in stream:
            batch.append(transaction_record(tx))
            if len(batch) >= TRANSACTION_BATCH:
                await store(batch)
                batch = []
        await store(batch)
    return total


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
    if row.status != ConsentStatus.authorized or not row.consent_id:
        return _unavailable("The agreement consent awaits the bank's approval")
    external = await bank.external_client(inp.user_id)
    client = bank.client(inp.bank_code)
    records = []
    try:
        with acting_for(inp.user_id):
            for agreement in await client.list_product_agreements(external, row.consent_id):
                detail = await client.get_product_agreement(
                    agreement.agreement_id, external_client_id=external, consent_id=row.consent_id
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
