"""RatesRefreshWorkflow: one fetch of the exchange-rate provider, started by a Temporal
schedule (`refresh-rates-<task queue>`, overlaps skipped)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from contracts.rates import (
    RATES_WORKFLOW,
    REFRESH_RATES_ACTIVITY,
    RatesRefreshInput,
    RatesRefreshResult,
)


@workflow.defn(name=RATES_WORKFLOW)
class RatesRefreshWorkflow:
    @workflow.run
    async def run(self, inp: RatesRefreshInput) -> RatesRefreshResult:
        return await workflow.execute_activity(
            REFRESH_RATES_ACTIVITY,
            inp,
            result_type=RatesRefreshResult,
            start_to_close_timeout=timedelta(seconds=30),
            # The next scheduled run tries again; stored rates stay until they are stale.
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
