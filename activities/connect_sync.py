"""Connect sync activities: accounts and balances, transactions, agreements, finish."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from temporalio import activity

from activities import bank_data_db as data
from activities.bank_access import BankAccess, bank_errors
from activities.connect_records import (
    account_record,
    agreement_record,
    balance_record,
    transaction_record,
)
from contracts import connect as c
from models.base import utcnow
from models.connect import ConsentKind

TRANSACTION_BATCH = 500


class SyncActivities:
    def __init__(self, bank: BankAccess) -> None:
        self.bank = bank

    @activity.defn(name=c.SYNC_ACCOUNTS)
    async def sync_accounts(self, inp: c.SyncInput) -> c.AccountsSynced:
        """Accounts and their balances (a snapshot row per balance)."""
        external, consent_id = await self.bank.accounts_consent(inp.user_id, inp.bank_code)
        run_id = await self.bank.db(data.start_sync_run, inp.user_id, inp.bank_code, _run_key())
        client = self.bank.client(inp.bank_code)
        async with bank_errors(inp.user_id, inp.bank_code, self.bank.ctx.engine):
            accounts = await client.list_accounts(external, consent_id)
            refs = await self.bank.db(
                data.upsert_accounts,
                inp.user_id,
                inp.bank_code,
                [account_record(a) for a in accounts],
            )
            now = utcnow()
            for ref in refs:
                balances = await client.get_balances(
                    ref.external_id, external_client_id=external, consent_id=consent_id
                )
                records = [balance_record(b, now) for b in balances]
                await self.bank.db(data.save_balances, ref.account_row_id, records)
                activity.heartbeat(ref.external_id)
        return c.AccountsSynced(run_id, refs)

    @activity.defn(name=c.SYNC_TRANSACTIONS)
    async def sync_transactions(self, inp: c.AccountSyncInput) -> c.TransactionsSynced:
        """New and changed transactions of one account since the last sync (with overlap)."""
        external, consent_id = await self.bank.accounts_consent(inp.user_id, inp.bank_code)
        start = await self.bank.db(data.sync_window_start, inp.account.account_row_id, utcnow())
        total, batch = c.TransactionsSynced(), []
        async with bank_errors(inp.user_id, inp.bank_code, self.bank.ctx.engine):
            stream = self.bank.client(inp.bank_code).iter_transactions(
                inp.account.external_id,
                external_client_id=external,
                consent_id=consent_id,
                from_dt=start,
            )
            async for tx in stream:
                batch.append(transaction_record(tx))
                if len(batch) >= TRANSACTION_BATCH:
                    _add(total, await self._store(inp, batch))
                    batch = []
            _add(total, await self._store(inp, batch))
        return total

    async def _store(self, inp: c.AccountSyncInput, batch: list[Any]) -> c.TransactionsSynced:
        activity.heartbeat(len(batch))
        return await self.bank.db(
            data.store_transactions, inp.user_id, inp.bank_code, inp.account.account_row_id, batch
        )

    @activity.defn(name=c.SYNC_AGREEMENTS)
    async def sync_agreements(self, inp: c.SyncInput) -> int:
        """Loan, deposit and card agreements, with rate and balance from each one's detail."""
        consent = await self.bank.authorized(
            inp.user_id, inp.bank_code, ConsentKind.product_agreements
        )
        consent_id = consent.consent_id if consent else None
        if consent_id is None:
            return 0
        external = await asyncio.to_thread(self.bank.external_client, inp.user_id)
        client = self.bank.client(inp.bank_code)
        records = []
        async with bank_errors(inp.user_id, inp.bank_code, self.bank.ctx.engine):
            for agreement in await client.list_product_agreements(external, consent_id):
                detail = await client.get_product_agreement(
                    agreement.agreement_id,
                    external_client_id=external,
                    consent_id=consent_id,
                )
                records.append(agreement_record(detail))
        return await self.bank.db(data.upsert_agreements, inp.user_id, inp.bank_code, records)

    @activity.defn(name=c.FINISH_SYNC)
    async def finish_sync(self, finish: c.FinishSync) -> None:
        """Close the sync run and set the bank's final state."""
        await self.bank.db(data.finish_sync, finish)


def _run_key() -> str:
    # One sync run per workflow run, however often the activity is retried.
    return activity.info().workflow_run_id or uuid.uuid4().hex


def _add(total: c.TransactionsSynced, part: c.TransactionsSynced) -> None:
    total.seen += part.seen
    total.added += part.added
    total.updated += part.updated
