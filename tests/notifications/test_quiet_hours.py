"""Quiet hours: the pure rule (a window in the user's local time, across midnight and a
DST change), the plan (non-urgent events wait, urgent ones do not), and the workflow
sleeping until the window ends (time-skipping test server, the steps stubbed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlmodel import select
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.notifications import (
    NOTIFICATION_WORKFLOW,
    DeliverInput,
    DeliverResult,
    NotificationActivity,
    NotificationInput,
    NotificationKind,
    NotificationPlan,
    NotificationResult,
)
from core.context import ServiceContext
from core.db import session_scope
from launcher.services import binary
from models.notifications import Notification
from models.users import Role
from processing.notifications.delivery import plan
from processing.notifications.outbox import notify
from processing.notifications.quiet import quiet_until, zone
from tests.factories import actor
from workflows.notification import NotificationWorkflow

UTC_ZONE, MOSCOW, BERLIN = zone("UTC"), zone("Europe/Moscow"), zone("Europe/Berlin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "start", "end", "tz", "until"),
    [
        # A window within one day: inside waits for its end, outside and at the end do not.
        ("2026-12-07 13:30", "13:00", "14:00", UTC_ZONE, "2026-12-07 14:00"),
        ("2026-12-07 14:00", "13:00", "14:00", UTC_ZONE, None),
        ("2026-12-07 12:59", "13:00", "14:00", UTC_ZONE, None),
        # Across midnight, before and after it (Moscow is UTC+3).
        ("2026-12-07 20:00", "22:00", "07:00", MOSCOW, "2026-12-08 04:00"),
        ("2026-12-07 02:00", "22:00", "07:00", MOSCOW, "2026-12-07 04:00"),
        ("2026-12-07 05:00", "22:00", "07:00", MOSCOW, None),
        # The night the clocks go back in Berlin: 07:00 local is 06:00 UTC afterwards.
        ("2026-10-24 22:30", "22:00", "07:00", BERLIN, "2026-10-25 06:00"),
        # Start equal to end: no window.
        ("2026-12-07 10:00", "10:00", "10:00", UTC_ZONE, None),
    ],
)
def test_quiet_until(now: str, start: str, end: str, tz: object, until: str | None) -> None:
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    got = quiet_until(at(now), begin, finish, tz)  # type: ignore[arg-type]
    assert got == (at(until) if until else None)


async def test_non_urgent_events_wait_for_quiet_hours_to_end_and_urgent_ones_do_not(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    someone = await actor(api, ctx.engine, Role.trader)
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2))
    quiet = {"start": start, "end": end.strftime("%H:%M"), "time_zone": "UTC"}
    answer = await api.put(
        "/api/me/notifications/preferences",
        json={"channels": {"withdrawal_status": ["email"], "dispute_opened": ["email"]},
              "quiet_hours": quiet},
        headers=someone.headers,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["quiet_hours"] == quiet
    ids = {}
    with session_scope(ctx.engine) as session:
        for kind in (NotificationKind.withdrawal_status, NotificationKind.dispute_opened):
            notify(session, someone.user_id, kind, {}, uuid.uuid4().hex)
            ids[kind] = session.exec(
                select(Notification.id).where(
                    Notification.kind == kind.value, Notification.user_id == someone.user_id
                )
            ).one()
    waiting = plan(ctx.engine, str(ids[NotificationKind.withdrawal_status]), now)
    assert waiting.channels == ["email"]
    assert waiting.deliver_at == end.replace(second=0, microsecond=0).isoformat()
    urgent = plan(ctx.engine, str(ids[NotificationKind.dispute_opened]), now)
    assert (urgent.channels, urgent.deliver_at) == (["email"], None)


async def test_the_workflow_sleeps_until_quiet_hours_end() -> None:
    """Decisions only: the plan and delivery steps are stubs recording the (skipped) time."""
    delivered: list[datetime] = []
    started = datetime.now(UTC)
    until = started + timedelta(hours=8)

    @activity.defn(name=NotificationActivity.plan)
    async def fake_plan(inp: NotificationInput) -> NotificationPlan:
        quiet = inp.notification_id == "quiet"
        return NotificationPlan(["telegram"], until.isoformat() if quiet else None)

    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server")
    ) as env:

        @activity.defn(name=NotificationActivity.deliver)
        async def fake_deliver(inp: DeliverInput) -> DeliverResult:
            delivered.append(await env.get_current_time())
            return DeliverResult(inp.notification_id, inp.channel, "sent")

        queue = f"quiet-{uuid.uuid4().hex[:6]}"
        async with Worker(
            env.client, task_queue=queue, workflows=[NotificationWorkflow],
            activities=[fake_plan, fake_deliver],
        ):  # fmt: skip
            for name in ("urgent", "quiet"):
                result = await env.client.execute_workflow(
                    NOTIFICATION_WORKFLOW,
                    NotificationInput(name),
                    id=f"notify-{name}-{queue}",
                    task_queue=queue,
                    result_type=NotificationResult,
                )
                assert result.deliveries == {"telegram": "sent"}
    assert delivered[0] < until
    assert delivered[1] >= until
