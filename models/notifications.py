"""Notifications for people: the outbox (one row per event and recipient), its deliveries
per channel, each user's choices (channels per event, quiet hours, the linked Telegram chat)
and the one-time codes that link a chat, plus the API schemas.

A notification's payload holds ids, masked numbers and amounts: never a full card number,
a token or a secret (it is rendered into Telegram messages and e-mails as it is).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, UtcDatetime, created_at_field, new_id

# Notifications whose delivery workflow has not been started yet (a few, briefly).
NOTIFY_NOT_STARTED = "workflow_started_at IS NULL"


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index(
            "ix_notifications_not_started",
            "created_at",
            postgresql_where=text(NOTIFY_NOT_STARTED),
            sqlite_where=text(NOTIFY_NOT_STARTED),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id")
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    urgent: bool = False
    # Derived from the event (kind, object, recipient, step): a retried step writes it once.
    dedup_key: str = Field(max_length=200, unique=True)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    workflow_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class NotificationDelivery(SQLModel, table=True):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_notification_deliveries_channel"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    notification_id: uuid.UUID = Field(foreign_key="notifications.id", index=True)
    channel: str = Field(max_length=16)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class NotificationSettings(SQLModel, table=True):
    """One user's choices; no row is the defaults (Telegram once linked, no e-mail)."""

    __tablename__ = "notification_settings"

    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True)
    telegram_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    # Event kind → the channels chosen for it; a kind left out has the defaults.
    channels: dict[str, list[str]] = Field(default_factory=dict, sa_type=JSON)
    quiet_start: str | None = Field(default=None, max_length=5)  # "HH:MM", local time
    quiet_end: str | None = Field(default=None, max_length=5)
    time_zone: str = Field(default="UTC", max_length=64)
    updated_at: datetime = created_at_field()


class TelegramLinkCode(SQLModel, table=True):
    """A one-time code a user sends the bot (`/start <code>`); only its hash is stored."""

    __tablename__ = "telegram_link_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = created_at_field()


class NotificationPublic(SQLModel):
    id: uuid.UUID
    kind: str
    text: str
    payload: dict[str, Any]
    urgent: bool
    read: bool
    created_at: UtcDatetime


class NotificationPage(SQLModel):
    items: list[NotificationPublic]
    unread: int
    # Pass as `before` for the next (older) page; null on the last one.
    next_before: UtcDatetime | None = None


class MarkRead(SQLModel):
    # The notifications to mark read; left out: every one of yours.
    ids: list[uuid.UUID] | None = Field(default=None, max_length=200)


class QuietHours(SQLModel):
    start: str = Field(regex=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, local time")
    end: str = Field(regex=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, local time")
    time_zone: str = Field(
        default="UTC", max_length=64, description="IANA name, e.g. Europe/Moscow"
    )


class NotificationPreferences(SQLModel):
    # Event kind → channels ("telegram", "email"); a kind left out keeps its channels.
    channels: dict[str, list[str]] = Field(default_factory=dict)
    # Non-urgent events wait until they end; null: none.
    quiet_hours: QuietHours | None = None


class NotificationPreferencesPublic(SQLModel):
    channels: dict[str, list[str]]
    quiet_hours: QuietHours | None
    telegram_linked: bool
    urgent_kinds: list[str]


class TelegramLinkPublic(SQLModel):
    code: str
    # Send this to the bot (`/start <code>`) before it expires.
    command: str
    expires_at: UtcDatetime
    bot_username: str | None = None
