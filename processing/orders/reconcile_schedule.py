"""The orphan reconciler's schedule, ensured by every worker at start (idempotent): one per
task queue, every minute, a run still going when the next is due makes it skip."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
)

from contracts.reconcile import (
    RECONCILE_EVERY_S,
    RECONCILE_WORKFLOW,
    ReconcileInput,
    reconcile_schedule_id,
)
from core.temporal import ensure_schedule, interval_schedule


def reconcile_schedule(task_queue: str, grace_seconds: int) -> Schedule:
    every = timedelta(seconds=RECONCILE_EVERY_S)
    action = ScheduleActionStartWorkflow(
        RECONCILE_WORKFLOW,
        ReconcileInput(grace_seconds),
        id=reconcile_schedule_id(task_queue),
        task_queue=task_queue,
        execution_timeout=every * 5,
    )
    return interval_schedule(action, every)


async def ensure_reconcile_schedule(client: Client, task_queue: str, grace_seconds: int) -> str:
    """Create the schedule, or bring an existing one to this definition (a new grace)."""
    schedule_id = reconcile_schedule_id(task_queue)
    schedule = reconcile_schedule(task_queue, grace_seconds)
    await ensure_schedule(client, schedule_id, schedule)
    return schedule_id
