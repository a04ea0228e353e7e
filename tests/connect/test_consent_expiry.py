"""A consent's end, acted on: warned a week before, and once past it the bank needs a new
consent, its refresh pauses and the dashboard says so. The clock is moved by moving the
consent's end (and the stored dashboard's time) back, as a year passing would."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.analytics import RefreshInput, RefreshResult, refresh_schedule_id
from core.context import ServiceContext
from core.db import session_scope
from models.base import utcnow
from models.connect import Consent, ConsentKind
from models.dashboard import UserDashboard
from tests.connect.helpers import connect_user, onboard, wait_until
from tests.factories import Actor
from workflows.refresh import RefreshWorkflow


def _move_clock(ctx: ServiceContext, user_id: uuid.UUID, consent_ends: datetime) -> None:
    """As if time had passed: the consent now ends at `consent_ends`, and the stored
    dashboard's own time is up."""
    with session_scope(ctx.engine) as session:
        session.execute(
            update(Consent)
            .where(col(Consent.user_id) == user_id, col(Consent.kind) == ConsentKind.accounts)
            .values(expires_at=consent_ends)
        )
        session.execute(
            update(UserDashboard)
            .where(col(UserDashboard.user_id) == user_id)
            .values(stale_at=utcnow() - timedelta(seconds=1))
        )


async def _vbank(api: httpx.AsyncClient, user: Actor) -> tuple[dict[str, Any], list[Any]]:
    body = (await api.get("/api/dashboard", headers=user.headers)).json()
    bank = next(b for b in body["banks"] if b["bank_code"] == "vbank")
    notes = [(a["reason"], a["message"]) for a in body["attention"] if a["bank_code"] == "vbank"]
    return bank, notes


async def _paused(client: Client, user_id: uuid.UUID) -> bool:
    described = await client.get_schedule_handle(refresh_schedule_id(str(user_id))).describe()
    return bool(described.schedule.state.paused)


async def test_an_ended_consent_needs_a_new_one_and_pauses_the_refresh(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await connect_user(api, ctx, slot=4)
    progress = await onboard(temporal_client, ctx, user.user_id, ["vbank"])
    assert progress.banks[0].status == "ready"
    assert not await _paused(temporal_client, user.user_id)

    # Three days before the end: warned.
    _move_clock(ctx, user.user_id, utcnow() + timedelta(days=3))
    bank, notes = await _vbank(api, user)
    assert bank["status"] == "ready" and [r for r, _ in notes] == ["consent_expiring_soon"]

    # A minute past the end: the dashboard says the bank needs a new consent, at once.
    ended = utcnow() - timedelta(minutes=1)
    _move_clock(ctx, user.user_id, ended)
    bank, notes = await _vbank(api, user)
    assert bank["status"] == "reconsent_required", bank
    day = ended.date().isoformat()
    assert notes == [
        ("reconsent_required", f"VBank consent ended {day}: reconnect VBank to keep it fresh.")
    ]

    # The next refresh records it, syncs nothing from that bank and pauses itself.
    result: RefreshResult = await temporal_client.execute_workflow(
        RefreshWorkflow.run,
        RefreshInput(str(user.user_id)),
        id=f"refresh-test-{uuid.uuid4().hex[:8]}",
        task_queue=ctx.settings.temporal_task_queue,
    )
    assert result.synced == [] and result.skipped == [] and result.failed == []
    assert await _paused(temporal_client, user.user_id)
    with Session(ctx.engine) as session:
        statuses = session.exec(
            select(Consent.status).where(
                Consent.user_id == user.user_id, Consent.kind == ConsentKind.accounts
            )
        ).all()
    assert [str(s) for s in statuses] == ["expired"]
    banks = (await api.get("/api/onboarding/status", headers=user.headers)).json()["banks"]
    vbank = next(b for b in banks if b["bank_code"] == "vbank")
    assert (vbank["status"], vbank["step"]) == ("reconsent_required", "consent_expired")

    # Reconnecting gives a new consent (the bank's old one withdrawn first) and resumes.
    assert (await api.post("/api/banks/vbank/connect", headers=user.headers)).status_code == 202

    async def ready_again() -> bool:
        bank, notes = await _vbank(api, user)
        return bank["status"] == "ready" and not notes

    await wait_until(ready_again, limit_s=60, what="vbank ready again")
    await wait_until(lambda: _resumed(temporal_client, user.user_id), what="refresh resumed")


async def _resumed(client: Client, user_id: uuid.UUID) -> bool:
    return not await _paused(client, user_id)
