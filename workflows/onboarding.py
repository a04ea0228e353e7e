"""OnboardingWorkflow: a user connects banks — per bank, in parallel:
token → account consent (approved at once, or awaited: poll + probe, or sandbox sign) →
agreement consent (optional) → sync → then a first analytics snapshot and a refresh schedule.

Id `onboarding-{user_id}`. Progress is a query and is mirrored in `bank_connections`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError

from contracts import analytics as a
from contracts import connect as c
from contracts.connect import (
    ConnectionStatus,
    ConsentKind,
    ConsentStatus,
    SyncStatus,
    sync_workflow_id,
)
from contracts.search_attributes import CONNECT_USER_ID
from workflows.sync import (
    DB_RETRY,
    LEAN,
    SyncWorkflow,
    bank_call,
    failure_of,
    sync_search_attributes,
)

CHECK_DURING_POLL = "check-during-poll"
# Each bank's analysis as soon as its sync is ready, not one after every bank (a consent
# awaiting the user's signature held the first analysis back for as long as it waited).
SNAPSHOT_PER_BANK = "snapshot-per-bank"


@workflow.defn
class OnboardingWorkflow:
    def __init__(self) -> None:
        self._progress: dict[str, c.BankProgress] = {}
        self._user_id = ""
        self._finished = False
        self._checks: set[str] = set()
        self._lean_sync = False
        self._per_bank = False
        # One analysis at a time: a bank ready while another's runs gets the next one.
        self._analysing = asyncio.Lock()

    @workflow.query
    def progress(self) -> c.OnboardingProgress:
        return c.OnboardingProgress(self._user_id, list(self._progress.values()), self._finished)

    @workflow.run
    async def run(self, inp: c.OnboardingInput) -> c.OnboardingProgress:
        self._user_id = inp.user_id
        # A child's start options are part of this history: runs from before the patch
        # start their syncs as they did (and those syncs tag themselves).
        self._lean_sync = workflow.patched(LEAN)
        self._per_bank = workflow.patched(SNAPSHOT_PER_BANK)
        workflow.upsert_search_attributes([CONNECT_USER_ID.value_set(inp.user_id)])
        self._progress = {bank: c.BankProgress(bank) for bank in inp.banks}
        await asyncio.gather(*(self._connect_bank(inp, bank) for bank in inp.banks))
        if any(p.status == ConnectionStatus.ready for p in self._progress.values()):
            if not self._per_bank:
                await self._analyse(inp.user_id)
            # Keep the user's data fresh from now on (paused while a bank needs re-consent).
            await workflow.execute_activity(
                a.AnalyticsActivity.ensure_refresh_schedule,
                a.RefreshScheduleInput(inp.user_id, reason="onboarding"),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    async def _analyse(self, user_id: str) -> None:
        """An analytics snapshot of every bank synced so far."""
        async with self._analysing:
            try:
                await workflow.execute_activity(
                    c.ConnectActivity.compute_snapshot,
                    c.SnapshotInput(user_id),
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=DB_RETRY,
                )
            except ActivityError as err:
                # The data is stored; the dashboard shows it without analytics until the next
                # refresh recomputes them. The reason is in the history and the logs.
                workflow.logger.error("snapshot failed: %s", failure_of(err)[1])

    @workflow.signal(name=c.OnboardingSignal.consent_check)
    def consent_check(self, bank_code: str) -> None:
        """The user says they approved at the bank: poll and probe now, not at the next tick."""
        self._checks.add(bank_code)

    async def _connect_bank(self, inp: c.OnboardingInput, bank: str) -> None:
        try:
            await self._set(inp, bank, ConnectionStatus.consent_pending, "bank_token", 5)
            await bank_call(c.ConnectActivity.ensure_token, bank, str)
            await self._set(inp, bank, ConnectionStatus.consent_pending, "consent_accounts", 15)
            state = await self._obtain_consent(inp, bank)
            if state.status != ConsentStatus.authorized:
                reason = state.reason or f"consent {state.status}"
                await self._set(inp, bank, ConnectionStatus.error, "consent_accounts", 15, reason)
                return
            # Agreements are optional: asked for once, read by the sync when the bank allows.
            step = "consent_product_agreements"
            await self._set(inp, bank, ConnectionStatus.consent_pending, step, 30)
            agreements = c.ConsentRequest(inp.user_id, bank, ConsentKind.product_agreements)
            try:
                await bank_call(c.ConnectActivity.request_consent, agreements, c.ConsentState)
            except ActivityError as err:
                workflow.logger.warning("agreement consent not requested: %s", failure_of(err)[1])
            await self._set(inp, bank, ConnectionStatus.sync_in_progress, "sync", 40)
            result = await self._sync(inp.user_id, bank)
            self._progress[bank] = c.BankProgress(
                bank, result.status, "done", 100, result.error, result.warnings
            )
            if self._per_bank and result.status == ConnectionStatus.ready:
                await self._analyse(inp.user_id)
        except ActivityError as err:
            status, reason = failure_of(err)
            await self._set(inp, bank, status, self._progress[bank].step, 100, reason)

    async def _obtain_consent(self, inp: c.OnboardingInput, bank: str) -> c.ConsentState:
        """The account consent: approved at once, or awaited. Approval is seen by polling or
        by a probe (the real banks never turn a polled request id Authorized), at a backoff
        or at once when the user says they approved."""
        request = c.ConsentRequest(inp.user_id, bank, ConsentKind.accounts)
        state = await bank_call(c.ConnectActivity.request_consent, request, c.ConsentState)
        if state.status != ConsentStatus.pending:
            return state
        step = "awaiting_signature_accounts"
        await self._set(inp, bank, ConnectionStatus.consent_pending, step, 20)
        deadline = workflow.now() + timedelta(seconds=inp.consent_deadline_seconds)
        delay, signed = inp.poll_initial_seconds, False
        # "I approved it" sent while a poll runs asks for one more: runs from before this
        # patch dropped it when the poll returned.
        keep_checks = workflow.patched(CHECK_DURING_POLL)
        while True:
            if keep_checks:
                self._checks.discard(bank)
            # Signing through the sandbox login happens only when the user allowed it.
            if inp.allow_sandbox_sign and not signed:
                name, signed = c.ConnectActivity.sign_consent, True
            else:
                name = c.ConnectActivity.poll_consent
            state = await bank_call(name, state, c.ConsentState)
            if state.status != ConsentStatus.pending:
                return state
            remaining = (deadline - workflow.now()).total_seconds()
            if remaining <= 0:
                return await workflow.execute_activity(
                    c.ConnectActivity.expire_consent,
                    state,
                    result_type=c.ConsentState,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=DB_RETRY,
                )
            if not keep_checks:
                self._checks.discard(bank)
            try:
                await workflow.wait_condition(
                    lambda: bank in self._checks, timeout=min(delay, remaining)
                )
            except TimeoutError:
                delay = min(delay * 2, inp.poll_max_seconds)

    async def _sync(self, user_id: str, bank: str) -> c.SyncResult:
        tags = sync_search_attributes(user_id, bank) if self._lean_sync else None
        try:
            return await workflow.execute_child_workflow(
                SyncWorkflow.run,
                c.SyncInput(user_id, bank),
                id=sync_workflow_id(user_id, bank),
                retry_policy=RetryPolicy(maximum_attempts=1),
                search_attributes=tags,
            )
        except ChildWorkflowError as err:
            return c.SyncResult(user_id, bank, SyncStatus.error, error=str(err.cause or err))

    async def _set(
        self,
        inp: c.OnboardingInput,
        bank: str,
        status: str,
        step: str,
        pct: int,
        error: str | None = None,
        local: bool = False,
    ) -> None:
        self._progress[bank] = c.BankProgress(bank, status, step, pct, error)
        if local:
            return  # SyncWorkflow's finish step already wrote the final state to the database.
        await workflow.execute_activity(
            c.ConnectActivity.update_connection,
            c.ConnectionUpdate(inp.user_id, bank, status, step, pct, error),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
