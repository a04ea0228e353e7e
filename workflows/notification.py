"""NotificationWorkflow: one per notification (`notify-<id>`), started by the sweep. Plans
the channels, sleeps through the recipient's quiet hours (non-urgent events only), then
delivers through each channel at once, each with its own retries and backoff; a channel
whose retries run out is marked failed. NotificationSweepWorkflow is the schedule's pass."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from contracts.notifications import (
    NOTIFICATION_SWEEP_WORKFLOW,
    NOTIFICATION_WORKFLOW,
    DeliverInput,
    DeliverResult,
    DeliveryState,
    NotificationActivity,
    NotificationInput,
    NotificationPlan,
    NotificationResult,
    SweepInput,
    SweepResult,
)

STEP = timedelta(seconds=30)
# A channel down (the bot API, the SMTP server) is tried again for about an hour.
DELIVERY_RETRIES = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=14,
)


@workflow.defn(name=NOTIFICATION_WORKFLOW)
class NotificationWorkflow:
    @workflow.run
    async def run(self, inp: NotificationInput) -> NotificationResult:
        plan = await workflow.execute_activity(
            NotificationActivity.plan,
            inp,
            result_type=NotificationPlan,
            start_to_close_timeout=STEP,
        )
        if plan.deliver_at is not None:
            wait = datetime.fromisoformat(plan.deliver_at) - workflow.now()
            if wait > timedelta(0):
                await workflow.sleep(wait)
        outcomes = await asyncio.gather(
            *(self.deliver(inp.notification_id, channel) for channel in plan.channels)
        )
        return NotificationResult(inp.notification_id, dict(outcomes))

    async def deliver(self, notification_id: str, channel: str) -> tuple[str, str]:
        step = DeliverInput(notification_id, channel)
        try:
            result = await workflow.execute_activity(
                NotificationActivity.deliver,
                step,
                result_type=DeliverResult,
                start_to_close_timeout=STEP,
                retry_policy=DELIVERY_RETRIES,
            )
            return channel, result.state
        except ActivityError:
            await workflow.execute_activity(
                NotificationActivity.give_up, step, start_to_close_timeout=STEP
            )
            return channel, DeliveryState.failed.value


@workflow.defn(name=NOTIFICATION_SWEEP_WORKFLOW)
class NotificationSweepWorkflow:
    @workflow.run
    async def run(self, inp: SweepInput) -> SweepResult:
        return await workflow.execute_activity(
            NotificationActivity.sweep,
            inp,
            result_type=SweepResult,
            start_to_close_timeout=timedelta(minutes=1),
            # The next scheduled pass tries again.
            retry_policy=RetryPolicy(maximum_attempts=2),
        )
