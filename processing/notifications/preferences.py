"""Each user's choices: channels per event kind, quiet hours in their time zone. No row is
the defaults: Telegram for every event once a chat is linked, no e-mail."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from contracts.notifications import URGENT_KINDS, Channel, NotificationKind
from core.errors import Conflict, Invalid
from models.base import utcnow
from models.notifications import (
    NotificationPreferences,
    NotificationPreferencesPublic,
    NotificationSettings,
    QuietHours,
)
from processing.notifications.linking import settings_row
from processing.notifications.quiet import zone

DEFAULT_CHANNELS = [Channel.telegram.value]


def chosen(row: NotificationSettings, kind: str) -> list[str]:
    return list(row.channels.get(kind, DEFAULT_CHANNELS))


def channels_for(row: NotificationSettings, kind: str) -> list[str]:
    """The channels a notification of this kind goes through now (Telegram only if linked)."""
    linked = row.telegram_chat_id is not None
    return [c for c in chosen(row, kind) if c != Channel.telegram or linked]


def public(row: NotificationSettings) -> NotificationPreferencesPublic:
    quiet = None
    if row.quiet_start and row.quiet_end:
        quiet = QuietHours(start=row.quiet_start, end=row.quiet_end, time_zone=row.time_zone)
    return NotificationPreferencesPublic(
        channels={kind.value: chosen(row, kind.value) for kind in NotificationKind},
        quiet_hours=quiet,
        telegram_linked=row.telegram_chat_id is not None,
        urgent_kinds=sorted(kind.value for kind in URGENT_KINDS),
    )


def read(session: Session, user_id: uuid.UUID) -> NotificationPreferencesPublic:
    return public(settings_row(session, user_id))


def _checked_channels(
    row: NotificationSettings, asked: dict[str, list[str]]
) -> dict[str, list[str]]:
    kinds = {kind.value for kind in NotificationKind}
    channels = {channel.value for channel in Channel}
    for kind, wanted in asked.items():
        if kind not in kinds:
            raise Invalid(f"Unknown event {kind!r}", code="unknown_event", details=sorted(kinds))
        unknown = sorted(set(wanted) - channels)
        if unknown:
            raise Invalid(
                f"Unknown channel {unknown[0]!r}", code="unknown_channel", details=sorted(channels)
            )
        if Channel.telegram in wanted and row.telegram_chat_id is None:
            raise Conflict(
                "Link a Telegram chat first (POST /api/me/notifications/telegram/link)",
                code="telegram_not_linked",
            )
    return {kind: sorted(set(wanted)) for kind, wanted in asked.items()}


def update(
    session: Session, user_id: uuid.UUID, body: NotificationPreferences
) -> NotificationPreferencesPublic:
    """Validate everything first: a refused request changes nothing."""
    row = settings_row(session, user_id)
    channels = _checked_channels(row, body.channels)
    if body.quiet_hours is not None:
        try:
            zone(body.quiet_hours.time_zone)
        except ValueError:
            raise Invalid(
                f"Unknown time zone {body.quiet_hours.time_zone!r}", code="invalid_time_zone"
            ) from None
    row.channels = {**row.channels, **channels}
    quiet = body.quiet_hours
    row.quiet_start = quiet.start if quiet else None
    row.quiet_end = quiet.end if quiet else None
    row.time_zone = quiet.time_zone if quiet else "UTC"
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return public(row)
