"""The refresh schedule (`refresh-{user_id}`) and RefreshWorkflow's decisions.

RefreshWorkflow runs on a fresh task queue with a stand-in `SyncWorkflow`: these tests are
about what the refresh decides per bank, not about talking to banks.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities import activity_methods
from activities.connect import ConnectActivities
from connect.refresh_schedule import delete_refresh_schedule
from contracts import analytics as a
from contracts import connect as c
from contracts.connect import sync_workflow_id
from core.context import ServiceContext
from models.analytics import AnalyticsSnapshot
from models.connect import ConnectionStatus
from tests.connect_analytics.bankdata import steady_earner
from tests.connect_analytics.conftest import NewUser
from tests.connect_analytics.standin_sync import StandInSync
from workflows.refresh import RefreshWorkflow


@pytest.fixture
async def schedules(temporal_client: Client) -> AsyncIterator[list[str]]:
    """User ids whose schedules the test created; deleted afterwards."""
    created: list[str] = []
    yield created
    for user_id in created:
        await delete_refresh_schedule(temporal_client, user_id)


async def test_ensure_schedule_is_idempotent_and_paused_while_reconsent_is_needed(
    ctx: ServiceContext, temporal_client: Client, new_user: NewUser, schedules: list[str]
) -> None:
    user, data = await new_user()
    data.connection("vbank")
    data.save(ctx.engine)
    schedules.append(str(user.user_id))
    env = ActivityEnvironment(client=temporal_client)
    acts = ConnectActivities(ctx)
    inp = a.RefreshScheduleInput(str(user.user_id))

    first = await env.run(acts.ensure_refresh_schedule, inp)
    again = await env.run(acts.ensure_refresh_schedule, inp)
    assert first == again == a.RefreshScheduleState(f"refresh-{user.user_id}", False, 6 * 3600)
    desc = await temporal_client.get_schedule_handle(first.schedule_id).describe()
    assert desc.schedule.spec.intervals[0].every == timedelta(hours=6)
    action = desc.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "RefreshWorkflow"
    assert action.task_queue == ctx.settings.temporal_task_queue
    assert desc.schedule.state.paused is False

    assert await env.run(acts.pause_refresh_schedule, inp) is True
    assert (
        await temporal_client.get_schedule_handle(first.schedule_id).describe()
    ).schedule.state.paused
    assert await env.run(acts.resume_refresh_schedule, inp) is True

    # A bank waiting for re-consent keeps the re-created schedule paused.
    data.connection("abank", ConnectionStatus.reconsent_required, consent_days_left=None)
    data.save(ctx.engine)
    paused = await env.run(acts.ensure_refresh_schedule, inp)
    desc = await temporal_client.get_schedule_handle(first.schedule_id).describe()
    assert paused.paused and desc.schedule.state.paused
    assert "abank" in (desc.schedule.state.note or "")
    nobody = a.RefreshScheduleInput(str(uuid.uuid4()))
    assert await env.run(acts.pause_refresh_schedule, nobody) is False


async def test_refresh_syncs_each_consented_bank_then_computes_a_snapshot(
    ctx: ServiceContext, temporal_client: Client, new_user: NewUser, schedules: list[str]
) -> None:
    user, data = await new_user()
    uid = str(user.user_id)
    steady_earner(data)
    for bank in ("vbank", "abank", "sbank"):
        data.connection(bank)
    data.save(ctx.engine)
    schedules.append(uid)
    acts = ConnectActivities(ctx)
    await ActivityEnvironment(client=temporal_client).run(
        acts.ensure_refresh_schedule, a.RefreshScheduleInput(uid)
    )
    queue = f"refresh-test-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            temporal_client,
            task_queue=queue,
            workflows=[RefreshWorkflow, StandInSync],
            activities=activity_methods(acts),
            activity_executor=executor,
        ):
            in_flight = await temporal_client.start_workflow(
                StandInSync.run,
                c.SyncInput(uid, "sbank"),
                id=sync_workflow_id(uid, "sbank"),
                task_queue=queue,
            )
            result = await temporal_client.execute_workflow(
                RefreshWorkflow.run, a.RefreshInput(uid), id=f"refresh-test-{uid}", task_queue=queue
            )
            await in_flight.terminate("test over")

    assert (result.synced, result.reconsent_required, result.skipped) == (
        ["vbank"],
        ["abank"],
        ["sbank"],
    )
    with Session(ctx.engine) as session:
        stored = session.exec(
            select(AnalyticsSnapshot).where(AnalyticsSnapshot.user_id == user.user_id)
        ).one()
    assert str(stored.id) == result.snapshot_id
    assert stored.dashboard is not None and stored.dashboard["metrics"]["primary_currency"] == "RUB"
    # abank needs a new consent: the refresh schedule stops until the user re-consents.
    desc = await temporal_client.get_schedule_handle(a.refresh_schedule_id(uid)).describe()
    assert desc.schedule.state.paused
