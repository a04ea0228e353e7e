"""The exchange-rate refresh's schedule, ensured by every worker at start (idempotent): one
per task queue, every `RATES_REFRESH_SECONDS`, a run still going when the next is due makes
it skip."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, ScheduleActionStartWorkflow

from contracts.rates import RATES_WORKFLOW, RatesRefreshInput, rates_schedule_id
from core.temporal import ensure_schedule, interval_schedule


async def ensure_rates_schedule(client: Client, task_queue: str, every_s: int) -> str:
    """Create the schedule, or bring an existing one to this definition (a new interval)."""
    schedule_id = rates_schedule_id(task_queue)
    every = timedelta(seconds=every_s)
    action = ScheduleActionStartWorkflow(
        RATES_WORKFLOW,
        RatesRefreshInput(),
        id=schedule_id,
        task_queue=task_queue,
        execution_timeout=max(every * 5, timedelta(minutes=2)),
    )
    await ensure_schedule(client, schedule_id, interval_schedule(action, every))
    return schedule_id
