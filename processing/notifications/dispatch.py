"""The notification sweep, run every few seconds by a Temporal schedule: reminders of
deadlines that are near, the bot's updates (chats to link), and a `NotificationWorkflow` for
every outbox row that has none yet.

Starting is idempotent: the workflow id is the notification's; a row is marked once its
workflow exists (started now, running or finished), so a crashed pass only starts again
what it had not marked, and the id refuses a second run.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts.notifications import (
    NOTIFICATION_WORKFLOW,
    NotificationInput,
    SweepInput,
    SweepResult,
    notification_workflow_id,
)
from core.db import session_scope
from core.settings import Settings
from models.base import utcnow
from models.notifications import Notification
from processing.notifications.events import deadlines_near
from processing.notifications.linking import read_updates
from processing.notifications.telegram import BotApi, TelegramError

log = logging.getLogger(__name__)


def unstarted(engine: Engine, limit: int) -> list[uuid.UUID]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Notification.id)
                .where(col(Notification.workflow_started_at).is_(None))
                .order_by(col(Notification.created_at))
                .limit(limit)
            ).all()
        )


def mark_started(engine: Engine, ids: list[uuid.UUID]) -> None:
    with session_scope(engine) as session:
        session.connection().execute(
            update(Notification)
            .where(col(Notification.id).in_(ids), col(Notification.workflow_started_at).is_(None))
            .values(workflow_started_at=utcnow())
        )


async def start_pending(engine: Engine, client: Client, task_queue: str, limit: int) -> list[str]:
    ids = await asyncio.to_thread(unstarted, engine, limit)
    for nid in ids:
        try:
            await client.start_workflow(
                NOTIFICATION_WORKFLOW,
                NotificationInput(str(nid)),
                id=notification_workflow_id(str(nid)),
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        except WorkflowAlreadyStartedError:
            pass
    if ids:
        await asyncio.to_thread(mark_started, engine, ids)
    return [str(nid) for nid in ids]


def remind_deadlines(engine: Engine, warning_s: int) -> int:
    with session_scope(engine) as session:
        return deadlines_near(session, warning_s)


async def sweep(
    engine: Engine, settings: Settings, bot: BotApi, client: Client, inp: SweepInput
) -> SweepResult:
    deadlines = await asyncio.to_thread(remind_deadlines, engine, settings.deadline_warning_seconds)
    linked = 0
    try:
        linked = await read_updates(engine, bot)
    except TelegramError as exc:  # the bot is unreachable: deliveries still start
        log.warning("telegram updates not read: %s", exc)
    started = await start_pending(engine, client, inp.task_queue, inp.limit)
    return SweepResult(started, linked, deadlines)
