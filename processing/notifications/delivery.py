"""The steps `NotificationWorkflow` runs: plan (which channels, and until when quiet hours
hold a non-urgent one back), deliver through one channel, give up after the retries.

A delivery row per channel records the outcome; a delivery already sent or failed is never
sent again (a retried activity finds it). Transient failures raise (Temporal retries with
backoff); permanent refusals (a blocked chat, a refused address) mark the row failed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from contracts.notifications import (
    Channel,
    DeliverInput,
    DeliverResult,
    DeliveryState,
    NotificationPlan,
)
from core.db import session_scope
from core.settings import Settings
from models.base import utcnow
from models.notifications import Notification, NotificationDelivery
from models.users import User
from processing.notifications import mail
from processing.notifications.linking import settings_row
from processing.notifications.preferences import channels_for
from processing.notifications.quiet import parse_hhmm, quiet_until, zone
from processing.notifications.telegram import BotApi, TelegramError
from processing.notifications.texts import render

log = logging.getLogger(__name__)
FINAL = (DeliveryState.sent, DeliveryState.failed, DeliveryState.skipped)


def _delivery(session: Session, notification_id: uuid.UUID, channel: str) -> NotificationDelivery:
    found = session.exec(
        select(NotificationDelivery)
        .where(
            NotificationDelivery.notification_id == notification_id,
            NotificationDelivery.channel == channel,
        )
        .with_for_update()
    ).first()
    return found or NotificationDelivery(notification_id=notification_id, channel=channel)


def plan(engine: Engine, notification_id: str, now: datetime) -> NotificationPlan:
    """The channels chosen for this kind (a pending row each, once) and, for a non-urgent
    one in quiet hours, when they end."""
    nid = uuid.UUID(notification_id)
    with session_scope(engine) as session:
        note = session.get(Notification, nid)
        assert note is not None, "the outbox row is committed before its workflow starts"
        prefs = settings_row(session, note.user_id)
        channels = channels_for(prefs, note.kind)
        for channel in channels:
            session.add(_delivery(session, nid, channel))
        deliver_at = None
        if not note.urgent and prefs.quiet_start and prefs.quiet_end:
            start, end = parse_hhmm(prefs.quiet_start), parse_hhmm(prefs.quiet_end)
            until = quiet_until(now, start, end, zone(prefs.time_zone))
            deliver_at = until.isoformat() if until else None
    return NotificationPlan(channels, deliver_at)


@dataclass(frozen=True)
class Outgoing:
    state: str  # the delivery's state now: pending (to send) or final
    kind: str = ""
    payload: dict[str, object] | None = None
    chat_id: int | None = None
    email: str | None = None


def outgoing(engine: Engine, inp: DeliverInput) -> Outgoing:
    nid = uuid.UUID(inp.notification_id)
    with Session(engine) as session:
        row = _delivery(session, nid, inp.channel)
        if row.status in FINAL:
            return Outgoing(row.status)
        note = session.get(Notification, nid)
        assert note is not None
        prefs = settings_row(session, note.user_id)
        user = session.get(User, note.user_id)
        email = user.email if user and user.is_active else None
        return Outgoing(row.status, note.kind, dict(note.payload), prefs.telegram_chat_id, email)


def mark(engine: Engine, inp: DeliverInput, state: DeliveryState, error: str | None) -> None:
    with session_scope(engine) as session:
        row = _delivery(session, uuid.UUID(inp.notification_id), inp.channel)
        if row.status in FINAL:
            return
        row.attempts += 1
        row.last_error = error[:300] if error else None
        if state != DeliveryState.pending:
            row.status = state.value
        if state == DeliveryState.sent:
            row.sent_at = utcnow()
        session.add(row)


async def deliver(
    engine: Engine, settings: Settings, bot: BotApi, inp: DeliverInput
) -> DeliverResult:
    out = await asyncio.to_thread(outgoing, engine, inp)
    if out.state in FINAL:
        return DeliverResult(inp.notification_id, inp.channel, out.state)
    subject, text = render(out.kind, out.payload or {})
    target = out.chat_id if inp.channel == Channel.telegram else out.email
    state = DeliveryState.sent
    error: str | None = None
    try:
        if target is None:
            state, error = DeliveryState.skipped, f"{inp.channel} not linked"
        elif inp.channel == Channel.telegram:
            assert isinstance(target, int)
            await bot.send_message(target, text)
        else:
            await mail.send(settings, str(target), subject, text)
    except (TelegramError, mail.EmailError) as exc:
        if not exc.permanent:
            await asyncio.to_thread(mark, engine, inp, DeliveryState.pending, str(exc))
            raise
        state, error = DeliveryState.failed, str(exc)
        log.warning("notification %s: %s refused: %s", inp.notification_id, inp.channel, exc)
    await asyncio.to_thread(mark, engine, inp, state, error)
    return DeliverResult(inp.notification_id, inp.channel, state.value)


def give_up(engine: Engine, inp: DeliverInput) -> None:
    """The retries ran out: the delivery is failed (the web list still shows it)."""
    mark(engine, inp, DeliveryState.failed, "retries exhausted")
