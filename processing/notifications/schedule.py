"""The notification sweep's schedule, ensured by every worker at start (idempotent): one
per task queue, every few seconds, a pass still going when the next is due makes it skip."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow

from contracts.notifications import (
    NOTIFICATION_SWEEP_WORKFLOW,
    NOTIFY_SWEEP_EVERY_S,
    SweepInput,
    notification_sweep_schedule_id,
)
from core.temporal import ensure_schedule, interval_schedule


def sweep_schedule(task_queue: str) -> Schedule:
    every = timedelta(seconds=NOTIFY_SWEEP_EVERY_S)
    action = ScheduleActionStartWorkflow(
        NOTIFICATION_SWEEP_WORKFLOW,
        SweepInput(task_queue),
        id=notification_sweep_schedule_id(task_queue),
        task_queue=task_queue,
        execution_timeout=timedelta(minutes=2),
    )
    return interval_schedule(action, every)


async def ensure_sweep_schedule(client: Client, task_queue: str) -> str:
    schedule_id = notification_sweep_schedule_id(task_queue)
    await ensure_schedule(client, schedule_id, sweep_schedule(task_queue))
    return schedule_id
