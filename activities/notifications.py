"""Notification activities: thin Temporal adapters over `processing/notifications/`."""

from __future__ import annotations

import asyncio
import logging

import httpx
from temporalio import activity

from contracts import notifications as n
from core.context import ServiceContext
from models.base import utcnow
from processing.notifications import delivery, dispatch
from processing.notifications.telegram import BotApi

log = logging.getLogger(__name__)


class NotificationActivities:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.http = httpx.AsyncClient()
        self.bot = BotApi(settings.telegram_api_base_url, settings.telegram_bot_token, self.http)

    @activity.defn(name=n.NotificationActivity.plan)
    def plan(self, inp: n.NotificationInput) -> n.NotificationPlan:
        """The channels chosen, a pending delivery row each; quiet hours' end if it waits."""
        return delivery.plan(self.ctx.engine, inp.notification_id, utcnow())

    @activity.defn(name=n.NotificationActivity.deliver)
    async def deliver(self, inp: n.DeliverInput) -> n.DeliverResult:
        """Send through one channel once; a transient failure raises (retried)."""
        result = await delivery.deliver(self.ctx.engine, self.ctx.settings, self.bot, inp)
        log.info("notification %s via %s: %s", inp.notification_id, inp.channel, result.state)
        return result

    @activity.defn(name=n.NotificationActivity.give_up)
    async def give_up(self, inp: n.DeliverInput) -> None:
        await asyncio.to_thread(delivery.give_up, self.ctx.engine, inp)

    @activity.defn(name=n.NotificationActivity.sweep)
    async def sweep(self, inp: n.SweepInput) -> n.SweepResult:
        """Deadline reminders, chats to link, a workflow for each notification without one."""
        ctx = self.ctx
        return await dispatch.sweep(ctx.engine, ctx.settings, self.bot, activity.client(), inp)
