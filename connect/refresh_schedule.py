"""The per-user Temporal Schedule `refresh-{user_id}` that re-syncs banks periodically.

Plain async functions over a Temporal client, so activities (via `activity.client()`) and
the API can both use them. Creating is idempotent: an existing schedule is updated in place.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleState,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from connect.connections import banks_needing_reconsent
from contracts.analytics import (
    REFRESH_WORKFLOW,
    RefreshInput,
    RefreshScheduleState,
    refresh_schedule_id,
)
from contracts.search_attributes import CONNECT_USER_ID
from core.temporal import ensure_schedule, interval_schedule

ACTIVE_NOTE = "Refreshing bank data periodically."


def build_schedule(
    user_id: str, task_queue: str, interval: timedelta, paused: bool, note: str
) -> Schedule:
    action = ScheduleActionStartWorkflow(
        REFRESH_WORKFLOW,
        RefreshInput(user_id),
        # Temporal appends the scheduled time, so each run gets its own id.
        id=refresh_schedule_id(user_id),
        task_queue=task_queue,
        execution_timeout=interval,
        typed_search_attributes=TypedSearchAttributes(
            [SearchAttributePair(CONNECT_USER_ID, user_id)]
        ),
    )
    return interval_schedule(action, interval, ScheduleState(paused=paused, note=note))


async def ensure_refresh_schedule(
    client: Client,
    user_id: str,
    task_queue: str,
    interval: timedelta,
    paused: bool = False,
    note: str = ACTIVE_NOTE,
) -> RefreshScheduleState:
    """Create the user's refresh schedule, or bring an existing one to this definition."""
    schedule_id = refresh_schedule_id(user_id)
    schedule = build_schedule(user_id, task_queue, interval, paused, note)
    await ensure_schedule(client, schedule_id, schedule)
    return RefreshScheduleState(schedule_id, paused, int(interval.total_seconds()))


async def keep_user_fresh(
    client: Client,
    *,
    engine: Engine,
    user_id: str,
    task_queue: str,
    interval: timedelta,
    reason: str,
) -> RefreshScheduleState:
    """Create or update the user's schedule; paused while a bank needs a new consent."""
    blocked = await asyncio.to_thread(banks_needing_reconsent, engine, user_id)
    note = f"Paused: {', '.join(blocked)} need(s) a new consent." if blocked else reason
    return await ensure_refresh_schedule(
        client, user_id, task_queue, interval, paused=bool(blocked), note=note or ACTIVE_NOTE
    )


async def set_refresh_paused(client: Client, user_id: str, paused: bool, note: str) -> bool:
    """Pause or unpause the user's refresh schedule; False when the user has none yet."""
    handle = client.get_schedule_handle(refresh_schedule_id(user_id))
    try:
        if paused:
            await handle.pause(note=note)
        else:
            await handle.unpause(note=note)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def delete_refresh_schedule(client: Client, user_id: str) -> None:
    """Remove the schedule (user left Connect); a missing schedule is fine."""
    try:
        await client.get_schedule_handle(refresh_schedule_id(user_id)).delete()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
