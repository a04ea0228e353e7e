"""Records the notification histories `test_replay.py` replays (with
`RECORD_HISTORIES=missing` or `all`, like the others): one notification delivered to the web
list only (its user linked no chat and set no preferences), and one pass of the sweep."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select
from temporalio.client import Client

from contracts.notifications import (
    NOTIFICATION_SWEEP_WORKFLOW,
    NOTIFICATION_WORKFLOW,
    NotificationInput,
    NotificationKind,
    NotificationResult,
    SweepInput,
    SweepResult,
    notification_workflow_id,
)
from core.context import ServiceContext
from core.db import session_scope
from models.notifications import Notification
from models.users import Role
from processing.notifications.outbox import notify
from tests.factories import create_user
from tests.replay.test_replay import RECORDING, _save, _wanted


@pytest.mark.skipif(not RECORDING, reason="set RECORD_HISTORIES=missing (or all) to record")
async def test_record_notification_histories(
    ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    queue = ctx.settings.temporal_task_queue
    if _wanted("notification-web"):
        user = create_user(ctx.engine, Role.trader)
        key = f"replay:{uuid.uuid4().hex}"
        payload = {"order_kind": "payin", "order_id": str(uuid.uuid4()), "amount": "1500.00",
                   "currency": "RUB", "opened_by": "merchant"}  # fmt: skip
        with session_scope(ctx.engine) as session:
            notify(session, user.id, NotificationKind.dispute_opened, payload, key)
            notification_id = str(
                session.exec(select(Notification.id).where(Notification.dedup_key == key)).one()
            )
        workflow_id = notification_workflow_id(notification_id)
        await temporal_client.execute_workflow(
            NOTIFICATION_WORKFLOW,
            NotificationInput(notification_id),
            id=workflow_id,
            task_queue=queue,
            result_type=NotificationResult,
        )
        await _save(temporal_client, workflow_id, "notification-web")
    if _wanted("notification-sweep"):
        workflow_id = f"notify-sweep-{uuid.uuid4().hex[:8]}"
        await temporal_client.execute_workflow(
            NOTIFICATION_SWEEP_WORKFLOW,
            SweepInput(queue),
            id=workflow_id,
            task_queue=queue,
            result_type=SweepResult,
        )
        await _save(temporal_client, workflow_id, "notification-sweep")
