"""OnboardingWorkflow: a user connects banks — per bank, in parallel:
token → consents → poll (or sandbox sign) → sync → then a first analytics snapshot.

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
from workflows.sync import DB_RETRY, SyncWorkflow, bank_call, failure_of


@workflow.defn
class OnboardingWorkflow:
    def __init__(self) -> None:
        self._progress: dict[str, c.BankProgress] = {}
        self._user_id = ""
        self._finished = False

    @workflow.query
    def progress(self) -> c.OnboardingProgress:
        return c.OnboardingProgress(self._user_id, list(self._progress.values()), self._finished)

    @workflow.run
    async def run(self, inp: c.OnboardingInput) -> c.OnboardingProgress:
        self._user_id = inp.user_id
        workflow.upsert_search_attributes([CONNECT_USER_ID.value_set(inp.user_id)])
        self._progress = {bank: c.BankProgress(bank) for bank in inp.banks}
        await asyncio.gather(*(self._connect_bank(inp, bank) for bank in inp.banks))
        if any(p.status == ConnectionStatus.ready for p in self._progress.values()):
            await workflow.execute_activity(
                c.ConnectActivity.compute_snapshot,
                c.SnapshotInput(inp.user_id),
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=DB_RETRY,
            )
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

    async def _connect_bank(self, inp: c.OnboardingInput, bank: str) -> None:
        try:
            await self._set(inp, bank, ConnectionStatus.consent_pending, "bank_token", 5)
            await bank_call(c.ConnectActivity.ensure_token, bank, str)
            for kind, pct in ((ConsentKind.accounts, 15), (ConsentKind.product_agreements, 30)):
                await self._set(inp, bank, ConnectionStatus.consent_pending, f"consent_{kind}", pct)
                state = await self._obtain_consent(inp, bank, kind)
                if state.status != ConsentStatus.authorized:
                    reason = state.reason or f"consent {state.status}"
                    await self._set(
                        inp, bank, ConnectionStatus.error, f"consent_{kind}", pct, reason
                    )
                    return
            await self._set(inp, bank, ConnectionStatus.sync_in_progress, "sync", 40)
            result = await self._sync(inp.user_id, bank)
            await self._set(inp, bank, result.status, "done", 100, result.error, local=True)
        except ActivityError as err:
            status, reason = failure_of(err)
            await self._set(inp, bank, status, self._progress[bank].step, 100, reason)

    async def _obtain_consent(self, inp: c.OnboardingInput, bank: str, kind: str) -> c.ConsentState:
        request = c.ConsentRequest(inp.user_id, bank, kind)
        state = await bank_call(c.ConnectActivity.request_consent, request, c.ConsentState)
        if state.status != ConsentStatus.pending:
            return state
        await self._set(
            inp, bank, ConnectionStatus.consent_pending, f"awaiting_signature_{kind}", 20
        )
        deadline = workflow.now() + timedelta(seconds=inp.consent_deadline_seconds)
        delay, signed = inp.poll_initial_seconds, False
        while state.status == ConsentStatus.pending:
            # Signing through the sandbox login happens only when the user allowed it.
            name = (
                c.ConnectActivity.sign_consent
                if inp.allow_sandbox_sign and not signed
                else c.ConnectActivity.poll_consent
            )
            signed = signed or name == c.ConnectActivity.sign_consent
            state = await bank_call(name, state, c.ConsentState)
            remaining = (deadline - workflow.now()).total_seconds()
            if state.status == ConsentStatus.pending and remaining <= 0:
                return await workflow.execute_activity(
                    c.ConnectActivity.expire_consent,
                    state,
                    result_type=c.ConsentState,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=DB_RETRY,
                )
            if state.status == ConsentStatus.pending:
                await workflow.sleep(min(delay, remaining))
                delay = min(delay * 2, inp.poll_max_seconds)
        return state

    async def _sync(self, user_id: str, bank: str) -> c.SyncResult:
        try:
            return await workflow.execute_child_workflow(
                SyncWorkflow.run,
                c.SyncInput(user_id, bank),
                id=sync_workflow_id(user_id, bank),
                retry_policy=RetryPolicy(maximum_attempts=1),
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
