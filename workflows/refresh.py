"""RefreshWorkflow: the scheduled re-sync of one user's banks, then a fresh snapshot.

Started by the Temporal Schedule `refresh-{user_id}` (see activities/refresh_schedule.py).
Each bank with an authorized consent syncs as a child `SyncWorkflow` under the usual id
`sync-{user_id}-{bank}`; when that id is already running (a manual or onboarding sync), the
bank is skipped: that sync brings the same data, and the next refresh will include it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

from contracts import analytics as a
from contracts import connect as c
from contracts.connect import SyncStatus, sync_workflow_id
from contracts.search_attributes import CONNECT_USER_ID
from workflows.sync import DB_RETRY, LEAN, SyncWorkflow, sync_search_attributes

SKIPPED = "skipped"
FAILED = "failed"


@workflow.defn
class RefreshWorkflow:
    def __init__(self) -> None:
        self._lean_sync = False

    @workflow.run
    async def run(self, inp: a.RefreshInput) -> a.RefreshResult:
        # A child's start options are part of this history: runs from before the patch
        # start their syncs as they did (and those syncs tag themselves).
        self._lean_sync = workflow.patched(LEAN)
        workflow.upsert_search_attributes([CONNECT_USER_ID.value_set(inp.user_id)])
        banks: list[str] = await workflow.execute_activity(
            a.AnalyticsActivity.refreshable_banks,
            inp,
            result_type=list[str],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
        result = a.RefreshResult(inp.user_id)
        outcomes = await asyncio.gather(*(self._sync(inp.user_id, bank) for bank in banks))
        for bank, outcome in zip(banks, outcomes, strict=True):
            self._record(result, bank, outcome)
        if result.reconsent_required:
            reason = f"Paused: {', '.join(result.reconsent_required)} need(s) a new consent."
            await workflow.execute_activity(
                a.AnalyticsActivity.pause_refresh_schedule,
                a.RefreshScheduleInput(inp.user_id, reason),
                result_type=bool,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )
        # Even with no new data, due dates and days-until-income move with time.
        if banks:
            snapshot = await workflow.execute_activity(
                c.ConnectActivity.compute_snapshot,
                c.SnapshotInput(inp.user_id),
                result_type=a.SnapshotResult,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=DB_RETRY,
            )
            result.snapshot_id = snapshot.snapshot_id
        return result

    async def _sync(self, user_id: str, bank: str) -> str:
        """The sync's final status, "skipped" if one was already running, or "failed"."""
        tags = sync_search_attributes(user_id, bank) if self._lean_sync else None
        try:
            outcome = await workflow.execute_child_workflow(
                SyncWorkflow.run,
                c.SyncInput(user_id, bank),
                id=sync_workflow_id(user_id, bank),
                retry_policy=RetryPolicy(maximum_attempts=1),
                # A sync half-way through should finish even if this refresh times out.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                search_attributes=tags,
            )
        except WorkflowAlreadyStartedError:
            return SKIPPED
        except ChildWorkflowError:
            return FAILED
        return outcome.status

    @staticmethod
    def _record(result: a.RefreshResult, bank: str, status: str) -> None:
        if status == SyncStatus.ready:
            result.synced.append(bank)
        elif status == SKIPPED:
            result.skipped.append(bank)
        elif status == SyncStatus.reconsent_required:
            result.reconsent_required.append(bank)
        else:
            result.failed.append(bank)
