"""SyncWorkflow: one bank of one user — accounts, balances, transactions, agreements.

Its id is `sync-{user_id}-{bank_code}`, so two syncs of the same bank never run at once:
a second start attaches to the running one.

Since the `sync-lean-v1` patch the fixed cost per bank is one server round trip fewer per
step: progress and the finish are local activities (database writes in this worker), the
agreements are fetched beside the transaction pages, and the search attributes come with the
start (`sync_search_attributes`) instead of an upsert.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError

from contracts import analytics as a
from contracts import connect as c
from contracts.connect import ConnectionStatus, SyncStatus
from contracts.search_attributes import BANK_CODE, CONNECT_USER_ID
from workflows.steps import run_step

# The bank client owns HTTP retries (bounded attempts and time, Retry-After honoured); what
# reaches Temporal is retried only for rate limits (after the bank's Retry-After, carried as
# next_retry_delay) and lost workers. A missing consent, a refused login, a bad request or a
# bug will not fix itself by retrying: those fail at once with their reason.
BANK_CALL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=6,
    non_retryable_error_types=[
        c.ConnectError.consent_required,
        c.ConnectError.bank_auth_failed,
        *c.DETERMINISTIC_ERRORS,
    ],
)
DB_RETRY = RetryPolicy(
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=list(c.DETERMINISTIC_ERRORS),
)
T = TypeVar("T")
# The patch behind which runs got lean (see SyncWorkflow.run); its starters use it too.
LEAN = "sync-lean-v1"
# A bank call of the sync: a long history of pages is still one activity.
PAGES_LIMIT = timedelta(minutes=10)


async def bank_call(
    name: str, arg: object, result_type: type[T], limit: timedelta = timedelta(minutes=2)
) -> T:
    """An activity that talks to a bank: retried with backoff, except for consent problems."""
    result: T = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=limit,
        retry_policy=BANK_CALL_RETRY,
    )
    return result


def sync_search_attributes(user_id: str, bank_code: str) -> TypedSearchAttributes:
    """What a starter of SyncWorkflow sets at start, so ops can filter syncs by user and bank."""
    return TypedSearchAttributes(
        [SearchAttributePair(BANK_CODE, bank_code), SearchAttributePair(CONNECT_USER_ID, user_id)]
    )


def failure_of(err: ActivityError) -> tuple[SyncStatus, str]:
    """(how the bank ends, reason) for an activity that failed for good."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == c.ConnectError.consent_required:
        return SyncStatus.reconsent_required, f"The bank needs a new consent: {cause.message}"
    message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
    return SyncStatus.error, message


@workflow.defn
class SyncWorkflow:
    def __init__(self) -> None:
        self._step = "queued"
        self._lean = False

    @workflow.query
    def step(self) -> str:
        return self._step

    @workflow.run
    async def run(self, inp: c.SyncInput) -> c.SyncResult:
        self._lean = workflow.patched(LEAN)
        self._tag(inp)
        result = c.SyncResult(user_id=inp.user_id, bank_code=inp.bank_code, status=SyncStatus.ready)
        run_id = ""
        try:
            await self._progress(inp, ConnectionStatus.sync_in_progress, "accounts", 45)
            synced = await self._bank_call(c.ConnectActivity.sync_accounts, inp, c.AccountsSynced)
            run_id = synced.sync_run_id
            result.accounts = len(synced.accounts)
            await self._progress(inp, ConnectionStatus.sync_in_progress, "transactions", 60)
            if self._lean:
                counts, agreements = await self._pages_and_agreements(inp, synced)
            else:
                counts = await self._pages(inp, synced)
                await self._progress(inp, ConnectionStatus.sync_in_progress, "agreements", 85)
                agreements = await self._bank_call(
                    c.ConnectActivity.sync_agreements, inp, c.AgreementsSynced
                )
            result.transactions_seen = sum(x.seen for x in counts)
            result.transactions_added = sum(x.added for x in counts)
            result.transactions_updated = sum(x.updated for x in counts)
            # Optional data: a bank that cannot give agreements is still ready, with a warning.
            result.agreements = agreements.count
            if agreements.warning is not None:
                result.warnings.append(agreements.warning)
        except ActivityError as err:
            result.status, result.error = failure_of(err)
        self._step = "finishing"
        await self._write(c.ConnectActivity.finish_sync, c.FinishSync(run_id, result))
        if result.status == SyncStatus.reconsent_required:
            # No point refreshing on a schedule until the user consents again. A normal
            # activity even in lean runs: it calls the Temporal schedule API, not the database.
            await workflow.execute_activity(
                a.AnalyticsActivity.pause_refresh_schedule,
                a.RefreshScheduleInput(inp.user_id, reason=result.error or "re-consent required"),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )
        self._step = result.status
        return result

    def _tag(self, inp: c.SyncInput) -> None:
        """Bank and user as search attributes. Lean runs get them from their starter; one
        started without them (an older parent, a script) still gets them here."""
        updates = [BANK_CODE.value_set(inp.bank_code), CONNECT_USER_ID.value_set(inp.user_id)]
        if self._lean:
            given = workflow.info().typed_search_attributes
            updates = [u for u in updates if given.get(u.key) is None]
        if updates:
            workflow.upsert_search_attributes(updates)

    def _pages(
        self, inp: c.SyncInput, synced: c.AccountsSynced
    ) -> asyncio.Future[list[c.TransactionsSynced]]:
        """Every account's transaction pages at once, an activity per account."""
        self._step = "sync_transactions"
        return asyncio.gather(
            *(
                bank_call(
                    c.ConnectActivity.sync_transactions,
                    c.AccountSyncInput(inp.user_id, inp.bank_code, synced.sync_run_id, account),
                    c.TransactionsSynced,
                    PAGES_LIMIT,
                )
                for account in synced.accounts
            )
        )

    async def _pages_and_agreements(
        self, inp: c.SyncInput, synced: c.AccountsSynced
    ) -> tuple[list[c.TransactionsSynced], c.AgreementsSynced]:
        """Lean runs: the agreements do not wait for the pages (neither needs the other), so
        the bank's progress goes from its transactions straight to done."""
        pages = self._pages(inp, synced)
        agreements = bank_call(
            c.ConnectActivity.sync_agreements, inp, c.AgreementsSynced, PAGES_LIMIT
        )
        self._step = "sync_transactions_and_agreements"
        return await asyncio.gather(pages, agreements)

    async def _bank_call(self, name: str, arg: object, result_type: type[T]) -> T:
        self._step = name.removeprefix("connect.")
        return await bank_call(name, arg, result_type, PAGES_LIMIT)

    async def _progress(self, inp: c.SyncInput, status: str, step: str, pct: int) -> None:
        self._step = step
        update = c.ConnectionUpdate(inp.user_id, inp.bank_code, status, step, pct)
        await self._write(c.ConnectActivity.update_connection, update)

    async def _write(self, name: str, arg: object) -> None:
        """The sync's own bookkeeping in the database. Lean runs make it a local activity:
        no round trip through the server for a write this worker can do itself."""
        await run_step(name, arg, local=self._lean, limit=timedelta(seconds=30), retry=DB_RETRY)
