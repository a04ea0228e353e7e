"""Connect activities: thin Temporal adapters over `connect/` (consents, sync, snapshots,
the refresh schedule), sharing one `BankAccess` per worker process.

Bank failures become Temporal errors here, in one place. The bank client owns HTTP retries;
what outlasts its budget is final here (consent, auth, bad requests, unreadable answers,
outages), except a rate limit, which Temporal retries after the bank's `Retry-After`.
Sync methods run in the worker's thread pool.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from banks import BankAuthError, BankError, BankRateLimitedError, ConsentRequiredError
from connect import consent_flow, snapshots, withdrawal
from connect import sync as sync_steps
from connect.bank_access import BankAccess
from connect.connection_updates import update_connection
from connect.consent_rows import mark_consent_required
from connect.consents import live_banks
from connect.errors import EarlierConsentHeld, NoLiveConsent, UserNotMapped
from connect.expiry import expire_lapsed
from connect.refresh_schedule import keep_user_fresh, set_refresh_paused
from contracts import analytics as a
from contracts import connect as c
from contracts.connect import ConnectActivity as Act
from contracts.connect import ConnectError
from core.context import ServiceContext


class ConnectActivities:
    """Holds the process's clients: the database engine and one bank client per bank."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.bank = BankAccess(ctx)

    @asynccontextmanager
    async def _bank_errors(self, user_id: str, bank_code: str) -> AsyncIterator[None]:
        try:
            yield
        except (ConsentRequiredError, NoLiveConsent) as exc:
            # The bank refused a data call for want of consent: ours is no longer valid.
            if isinstance(exc, ConsentRequiredError) and user_id and bank_code:
                engine = self.ctx.engine
                await asyncio.to_thread(mark_consent_required, engine, user_id, bank_code, str(exc))
            kind = ConnectError.consent_required
            raise ApplicationError(str(exc), type=kind, non_retryable=True) from exc
        except BankAuthError as exc:
            kind = ConnectError.bank_auth_failed
            raise ApplicationError(str(exc), type=kind, non_retryable=True) from exc
        except BankRateLimitedError as exc:
            # The client waited out short Retry-Afters itself; a longer one is Temporal's wait.
            wait = timedelta(seconds=exc.retry_after_s) if exc.retry_after_s else None
            raise ApplicationError(str(exc), type=exc.code, next_retry_delay=wait) from exc
        except BankError as exc:
            # Bad requests, unreadable answers and outages that outlasted the client's own
            # retry budget: recorded as the bank's error, not retried again without bound.
            raise ApplicationError(str(exc), type=exc.code, non_retryable=True) from exc
        except EarlierConsentHeld as exc:
            kind = ConnectError.earlier_consent_held
            raise ApplicationError(exc.message, type=kind, non_retryable=True) from exc
        except UserNotMapped as exc:
            raise ApplicationError(str(exc), type=exc.code, non_retryable=True) from exc

    @activity.defn(name=Act.ensure_token)
    async def ensure_token(self, bank_code: str) -> str:
        """Make sure a valid bank token is cached; returns its bank, never the token."""
        async with self._bank_errors("", bank_code):
            await self.bank.client(bank_code).get_bank_token()
        return bank_code

    @activity.defn(name=Act.request_consent)
    async def request_consent(self, req: c.ConsentRequest) -> c.ConsentState:
        """Reuse the open consent of this bank and kind, or request a new one."""
        async with self._bank_errors(req.user_id, req.bank_code):
            return await consent_flow.request(self.bank, req)

    @activity.defn(name=Act.poll_consent)
    async def poll_consent(self, state: c.ConsentState) -> c.ConsentState:
        """Ask the bank for a pending consent's status."""
        async with self._bank_errors("", state.bank_code):
            return await consent_flow.poll(self.bank, state)

    @activity.defn(name=Act.sign_consent)
    async def sign_consent(self, state: c.ConsentState) -> c.ConsentState:
        """Sandbox only, when the user allowed it: sign the pending request as the user."""
        async with self._bank_errors("", state.bank_code):
            return await consent_flow.sign(self.bank, state)

    @activity.defn(name=Act.expire_consent)
    async def expire_consent(self, state: c.ConsentState) -> c.ConsentState:
        """The user did not approve in time: the request is given up with a clear reason."""
        return await consent_flow.expire(self.bank, state)

    @activity.defn(name=Act.revoke_consent)
    async def revoke_consent(self, inp: c.RevokeInput) -> c.ConsentState:
        """Withdraw a consent at the bank and here; the bank then needs re-connecting."""
        async with self._bank_errors(inp.user_id, ""):
            return await withdrawal.revoke(self.bank, inp)

    @activity.defn(name=Act.update_connection)
    def update_connection(self, update: c.ConnectionUpdate) -> None:
        """Mirror a bank's onboarding / sync progress into bank_connections."""
        update_connection(self.ctx.engine, update)

    @activity.defn(name=Act.sync_accounts)
    async def sync_accounts(self, inp: c.SyncInput) -> c.AccountsSynced:
        """Accounts and their balances (a snapshot row per balance)."""
        # One sync run per workflow run, however often the activity is retried.
        run_key = activity.info().workflow_run_id or uuid.uuid4().hex
        async with self._bank_errors(inp.user_id, inp.bank_code):
            return await sync_steps.sync_accounts(self.bank, inp, run_key, activity.heartbeat)

    @activity.defn(name=Act.sync_transactions)
    async def sync_transactions(self, inp: c.AccountSyncInput) -> c.TransactionsSynced:
        """New and changed transactions of one account since the last sync (with overlap)."""
        async with self._bank_errors(inp.user_id, inp.bank_code):
            return await sync_steps.sync_transactions(self.bank, inp, activity.heartbeat)

    @activity.defn(name=Act.sync_agreements)
    async def sync_agreements(self, inp: c.SyncInput) -> c.AgreementsSynced:
        """Loan, deposit and card agreements, with rate and balance from each one's detail."""
        async with self._bank_errors(inp.user_id, inp.bank_code):
            return await sync_steps.sync_agreements(self.bank, inp)

    @activity.defn(name=Act.finish_sync)
    async def finish_sync(self, finish: c.FinishSync) -> None:
        """Close the sync run and set the bank's final state."""
        run_key = activity.info().workflow_run_id or finish.sync_run_id
        await sync_steps.finish(self.bank, finish, run_key)

    @activity.defn(name=Act.compute_snapshot)
    def compute_snapshot(self, inp: c.SnapshotInput) -> a.SnapshotResult:
        """Recompute and store the user's analytics as of now (a new history row)."""
        return snapshots.compute_and_store(self.ctx.engine, inp.user_id, datetime.now(UTC))

    @activity.defn(name=a.AnalyticsActivity.recategorise_user)
    def recategorise_user(self, inp: a.RecategoriseInput) -> a.RecategoriseResult:
        return snapshots.recategorise_user(self.ctx.engine, inp.user_id)

    @activity.defn(name=a.AnalyticsActivity.list_users_with_accounts)
    def list_users_with_accounts(self, page: a.UsersPage) -> a.UsersPageResult:
        users = snapshots.users_with_accounts(self.ctx.engine, page.after, page.limit)
        return a.UsersPageResult(users)

    @activity.defn(name=a.AnalyticsActivity.refreshable_banks)
    async def refreshable_banks(self, inp: a.RefreshInput) -> list[str]:
        """Banks with a live accounts consent, in bank-code order. A bank whose consent has
        ended needs a new one: it is told so, and the refresh pauses until it is given."""
        ended = await asyncio.to_thread(expire_lapsed, self.ctx.engine, inp.user_id)
        if ended:
            note = f"Paused: the consent of {', '.join(ended)} ended; a new one is needed."
            await set_refresh_paused(activity.client(), inp.user_id, True, note)
        return await asyncio.to_thread(live_banks, self.ctx.engine, inp.user_id)

    @activity.defn(name=a.AnalyticsActivity.ensure_refresh_schedule)
    async def ensure_refresh_schedule(self, inp: a.RefreshScheduleInput) -> a.RefreshScheduleState:
        """Create or update `refresh-{user_id}`; paused while a bank needs a new consent."""
        settings = self.ctx.settings
        return await keep_user_fresh(
            activity.client(),
            engine=self.ctx.engine,
            user_id=inp.user_id,
            task_queue=settings.temporal_task_queue,
            interval=timedelta(seconds=settings.connect_refresh_interval_seconds),
            reason=inp.reason,
        )

    @activity.defn(name=a.AnalyticsActivity.pause_refresh_schedule)
    async def pause_refresh_schedule(self, inp: a.RefreshScheduleInput) -> bool:
        """Pause the refresh (a consent expired or was revoked); False if no schedule yet."""
        note = inp.reason or "Paused: a bank needs a new consent."
        return await set_refresh_paused(activity.client(), inp.user_id, True, note)

    @activity.defn(name=a.AnalyticsActivity.resume_refresh_schedule)
    async def resume_refresh_schedule(self, inp: a.RefreshScheduleInput) -> bool:
        """Unpause the refresh after re-consent; False if no schedule yet."""
        note = inp.reason or "Resumed after re-consent."
        return await set_refresh_paused(activity.client(), inp.user_id, False, note)
