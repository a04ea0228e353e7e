"""ReconcileWorkflow: one pass of the orphan reconciler, started by a Temporal schedule
(`reconcile-orphans-<task queue>`, every minute, overlaps skipped)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from contracts.processing import ProcessingActivity
from contracts.reconcile import RECONCILE_WORKFLOW, ReconcileInput, ReconcileResult


@workflow.defn(name=RECONCILE_WORKFLOW)
class ReconcileWorkflow:
    @workflow.run
    async def run(self, inp: ReconcileInput) -> ReconcileResult:
        return await workflow.execute_activity(
            ProcessingActivity.fail_orphans,
            inp,
            result_type=ReconcileResult,
            start_to_close_timeout=timedelta(minutes=2),
            # The next scheduled run tries again; no point piling retries up.
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
