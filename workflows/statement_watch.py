"""StatementWatchWorkflow (`statement-watch-{trader_id}`): while a trader has open pay-ins on
requisites linked to a synced bank account, scan those accounts' newest transactions every
interval and let each new credit confirm (or be offered for) its order.

Started by the first match on a linked requisite with signal-with-start (`kick`); every
later match kicks the running watch. It ends when a scan finds nothing open and no kick came
in meanwhile (a kick racing the end makes the server refuse the completion, so the kick is
seen and the watch goes on). A rate-limited or failing bank doubles the wait, up to
`MAX_BACKOFF_S`; long runs continue as new.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from contracts.bridge import (
    MAX_BACKOFF_S,
    BridgeActivity,
    ScanInput,
    WatchInput,
    WatchScan,
    WatchSignal,
    WatchStatus,
    WatchSummary,
)

SCAN_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


@workflow.defn(name="StatementWatchWorkflow")
class StatementWatchWorkflow:
    def __init__(self) -> None:
        self._kicks = 0

    @workflow.signal(name=WatchSignal.kick)
    def kick(self) -> None:
        self._kicks += 1

    @workflow.run
    async def run(self, inp: WatchInput) -> WatchSummary:
        delay, scans, confirmed = inp.delay_s, inp.scans, inp.confirmed
        for _ in range(inp.scans_per_run):
            kicks, began = self._kicks, workflow.now()
            scan: WatchScan = await workflow.execute_activity(
                BridgeActivity.scan_statement,
                ScanInput(inp.trader_id),
                result_type=WatchScan,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=SCAN_RETRY,
            )
            scans, confirmed = scans + 1, confirmed + scan.confirmed
            if scan.open_work == 0 and self._kicks == kicks:
                return WatchSummary(inp.trader_id, scans, confirmed)
            if scan.status == WatchStatus.ok:
                delay = scan.interval_s
            else:
                backoff = max(delay * 2, scan.interval_s, scan.retry_after_s or 0)
                delay = min(backoff, MAX_BACKOFF_S)
            # Scans start every `delay` seconds: a long scan does not push the next one back.
            spent = (workflow.now() - began).total_seconds()
            await workflow.sleep(max(delay - spent, 0.1))
        workflow.continue_as_new(
            WatchInput(inp.trader_id, delay, scans, confirmed, inp.scans_per_run)
        )
