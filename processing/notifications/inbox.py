"""The web list: a user's own notifications, newest first, paged by time; marking read."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from models.base import utcnow
from models.notifications import MarkRead, Notification, NotificationPage, NotificationPublic
from processing.notifications.texts import render


def as_public(note: Notification) -> NotificationPublic:
    return NotificationPublic(
        id=note.id,
        kind=note.kind,
        text=render(note.kind, note.payload)[1],
        payload=note.payload,
        urgent=note.urgent,
        read=note.read_at is not None,
        created_at=note.created_at,
    )


def page(
    session: Session, user_id: uuid.UUID, before: datetime | None, limit: int
) -> NotificationPage:
    query = select(Notification).where(Notification.user_id == user_id)
    if before is not None:
        query = query.where(col(Notification.created_at) < before)
    rows = session.exec(
        query.order_by(col(Notification.created_at).desc(), col(Notification.id)).limit(limit + 1)
    ).all()
    unread = session.exec(
        select(func.count()).where(
            Notification.user_id == user_id, col(Notification.read_at).is_(None)
        )
    ).one()
    more = len(rows) > limit
    items = [as_public(note) for note in rows[:limit]]
    return NotificationPage(
        items=items, unread=unread, next_before=items[-1].created_at if more else None
    )


def mark_read(session: Session, user_id: uuid.UUID, body: MarkRead) -> int:
    """Only the caller's own rows are touched (someone else's id is simply not matched)."""
    query = update(Notification).where(
        col(Notification.user_id) == user_id, col(Notification.read_at).is_(None)
    )
    if body.ids is not None:
        query = query.where(col(Notification.id).in_(body.ids))
    marked = session.connection().execute(query.values(read_at=utcnow())).rowcount
    session.commit()
    return int(marked)
