"""Analytics activities: snapshots, re-categorisation and the refresh schedule.

Database methods are sync: the worker runs them in its thread pool. Schedule methods are
async because they call Temporal through `activity.client()` (async activities only).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select
from temporalio import activity

from activities import analytics_db
from activities.refresh_schedule import ensure_refresh_schedule, set_refresh_paused
from contracts import analytics as a
from contracts.connect import COMPUTE_SNAPSHOT, SnapshotInput
from core.context import ServiceContext
from models.base import as_utc
from models.connect import (
    BankConnection,
    ConnectionStatus,
    Consent,
    ConsentKind,
    ConsentStatus,
)


class AnalyticsActivities:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    @activity.defn(name=COMPUTE_SNAPSHOT)
    def compute_snapshot(self, inp: SnapshotInput) -> a.SnapshotResult:
        """Recompute and store the user's analytics as of now (a new history row)."""
        now = datetime.now(UTC)
        return analytics_db.compute_and_store(self._ctx.engine, inp.user_id, now)

    @activity.defn(name=a.RECATEGORISE_USER)
    def recategorise_user(self, inp: a.RecategoriseInput) -> a.RecategoriseResult:
        return analytics_db.recategorise_user(self._ctx.engine, inp.user_id)

    @activity.defn(name=a.LIST_USERS_WITH_ACCOUNTS)
    def list_users_with_accounts(self, page: a.UsersPage) -> a.UsersPageResult:
        users = analytics_db.users_with_accounts(self._ctx.engine, page.after, page.limit)
        return a.UsersPageResult(users)

    @activity.defn(name=a.REFRESHABLE_BANKS)
    def refreshable_banks(self, inp: a.RefreshInput) -> list[str]:
        """Banks with an authorized, unexpired accounts consent, in bank-code order."""
        now = datetime.now(UTC)
        query = select(Consent).where(
            Consent.user_id == uuid.UUID(inp.user_id),
            Consent.kind == ConsentKind.accounts,
            Consent.status == ConsentStatus.authorized,
        )
        with Session(self._ctx.engine) as session:
            consents = list(session.exec(query))
        banks = {
            c.bank_code for c in consents if c.expires_at is None or as_utc(c.expires_at) > now
        }
        return sorted(banks)

    @activity.defn(name=a.ENSURE_REFRESH_SCHEDULE)
    async def ensure_refresh_schedule(self, inp: a.RefreshScheduleInput) -> a.RefreshScheduleState:
        """Create or update `refresh-{user_id}`; paused while a bank needs a new consent."""
        settings = self._ctx.settings
        blocked = await asyncio.to_thread(self._banks_needing_reconsent, inp.user_id)
        note = f"Paused: {', '.join(blocked)} need(s) a new consent." if blocked else inp.reason
        return await ensure_refresh_schedule(
            activity.client(),
            inp.user_id,
            settings.temporal_task_queue,
            timedelta(seconds=settings.connect_refresh_interval_seconds),
            paused=bool(blocked),
            note=note or "Refreshing bank data periodically.",
        )

    @activity.defn(name=a.PAUSE_REFRESH_SCHEDULE)
    async def pause_refresh_schedule(self, inp: a.RefreshScheduleInput) -> bool:
        """Pause the refresh (a consent expired or was revoked); False if no schedule yet."""
        note = inp.reason or "Paused: a bank needs a new consent."
        return await set_refresh_paused(activity.client(), inp.user_id, True, note)

    @activity.defn(name=a.RESUME_REFRESH_SCHEDULE)
    async def resume_refresh_schedule(self, inp: a.RefreshScheduleInput) -> bool:
        """Unpause the refresh after re-consent; False if no schedule yet."""
        note = inp.reason or "Resumed after re-consent."
        return await set_refresh_paused(activity.client(), inp.user_id, False, note)

    def _banks_needing_reconsent(self, user_id: str) -> list[str]:
        query = select(BankConnection.bank_code).where(
            BankConnection.user_id == uuid.UUID(user_id),
            BankConnection.status == ConnectionStatus.reconsent_required,
        )
        with Session(self._ctx.engine) as session:
            return sorted(session.exec(query.order_by(col(BankConnection.bank_code))))

    def all(self) -> list[Callable[..., Any]]:
        """Every analytics activity, for the worker's registry."""
        return [
            self.compute_snapshot,
            self.recategorise_user,
            self.list_users_with_accounts,
            self.refreshable_banks,
            self.ensure_refresh_schedule,
            self.pause_refresh_schedule,
            self.resume_refresh_schedule,
        ]
