"""RecategoriseWorkflow: re-apply the categorisation rules to every user's transactions.

Started by the admin API after a rule changes, under one id: a newer change terminates a
run in progress and starts over, since only the newest rules matter. Users whose categories
changed get a fresh analytics snapshot. Users are read in pages; long runs continue as new.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

from contracts import analytics as a
from contracts import connect as c
from workflows.sync import DB_RETRY

# Users re-categorised at once: keeps the worker's activity slots free for other work.
PARALLEL_USERS = 10


@workflow.defn
class RecategoriseWorkflow:
    @workflow.run
    async def run(self, inp: a.RecategoriseAllInput) -> a.RecategoriseAllResult:
        after, done, changed = inp.after, inp.users_done, inp.users_changed
        while True:
            page = await workflow.execute_activity(
                a.AnalyticsActivity.list_users_with_accounts,
                a.UsersPage(after),
                result_type=a.UsersPageResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )
            if not page.user_ids:
                return a.RecategoriseAllResult(done, changed)
            for start in range(0, len(page.user_ids), PARALLEL_USERS):
                batch = page.user_ids[start : start + PARALLEL_USERS]
                results = await asyncio.gather(*(self._user(uid) for uid in batch))
                changed += sum(results)
            done += len(page.user_ids)
            after = page.user_ids[-1]
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(a.RecategoriseAllInput(inp.reason, after, done, changed))

    async def _user(self, user_id: str) -> int:
        """1 when the user's categories changed (and a new snapshot was stored), else 0."""
        result = await workflow.execute_activity(
            a.AnalyticsActivity.recategorise_user,
            a.RecategoriseInput(user_id),
            result_type=a.RecategoriseResult,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=DB_RETRY,
        )
        if result.changed == 0:
            return 0
        await workflow.execute_activity(
            c.ConnectActivity.compute_snapshot,
            c.SnapshotInput(user_id),
            result_type=a.SnapshotResult,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=DB_RETRY,
        )
        return 1
