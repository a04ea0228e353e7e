"""Connecting to Temporal once, with the search attributes ops filter on."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from core.settings import Settings
from core.tracing import TracingInterceptor


class TemporalConnector:
    """Connects lazily so the API can start (and report not-ready) while Temporal is down."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                self._client = await asyncio.wait_for(
                    Client.connect(
                        self._settings.temporal_address,
                        namespace=self._settings.temporal_namespace,
                        # The request id travels into the workflows this client starts.
                        interceptors=[TracingInterceptor()],
                    ),
                    timeout=5,
                )
        return self._client

    async def check(self) -> None:
        client = await self.get()
        await asyncio.wait_for(client.service_client.check_health(), timeout=3)


def interval_schedule(
    action: ScheduleActionStartWorkflow, every: timedelta, state: ScheduleState | None = None
) -> Schedule:
    """Start `action` every interval; a run still going when the next is due makes the next
    one skip (it would only do the same work again)."""
    return Schedule(
        action=action,
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=state or ScheduleState(),
    )


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    """Create a schedule, or bring an existing one to this definition (idempotent)."""
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def replace_definition(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace_definition)
