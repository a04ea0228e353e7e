"""Reading the audit log a page at a time: newest first, by keyset (the last row's time and
id), so a deep page costs what the first does and rows written meanwhile never shift it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from core.cursors import EPOCH, decode_cursor, encode_cursor
from models.audit import AuditEntry
from models.users import User

# Keys that name a secret are left out when the entry is written; a value under such a key
# is still never shown (an entry written before that rule, a key spelt another way).
SECRET_HINTS = ("password", "secret", "hash", "encrypted", "token", "key_")
HIDDEN = "(hidden)"


@dataclass(frozen=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    action: str = ""  # part of "METHOD /path/{template}"
    target: str = ""  # the object's id, or its type (`Requisite`)
    since: date | None = None  # from the start of this UTC day
    until: date | None = None  # to the end of this UTC day


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: HIDDEN if any(hint in key.lower() for hint in SECRET_HINTS) else value
        for key, value in values.items()
    }


def _filtered(query: Any, chosen: AuditFilter) -> Any:
    if chosen.actor_id is not None:
        query = query.where(AuditEntry.actor_user_id == chosen.actor_id)
    if chosen.action:
        query = query.where(col(AuditEntry.action).icontains(chosen.action, autoescape=True))
    if chosen.target:
        query = query.where(
            or_(
                col(AuditEntry.target_id) == chosen.target,
                col(AuditEntry.target_type) == chosen.target,
            )
        )
    if chosen.since is not None:
        query = query.where(col(AuditEntry.at) >= _start_of(chosen.since))
    if chosen.until is not None:
        query = query.where(col(AuditEntry.at) < _start_of(chosen.until) + timedelta(days=1))
    return query


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=EPOCH.tzinfo)


def audit_page(
    session: Session, chosen: AuditFilter, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of entries (with the actor's email) and the cursor of the next, if any.
    A cursor not of our shape is refused (422 invalid_cursor)."""
    query = _filtered(select(AuditEntry, User.email), chosen).outerjoin(
        User, col(User.id) == AuditEntry.actor_user_id
    )
    if cursor:
        at, row_id = decode_cursor(cursor)
        query = query.where(
            or_(
                col(AuditEntry.at) < at,
                and_(col(AuditEntry.at) == at, col(AuditEntry.id) < row_id),
            )
        )
    query = query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit + 1)
    rows = list(session.exec(query))
    more = len(rows) > limit
    entries = [
        {
            "id": entry.id,
            "at": entry.at,
            "actor_id": entry.actor_user_id,
            "actor": email or str(entry.actor_user_id),
            "action": entry.action,
            "target_type": entry.target_type,
            "target_id": entry.target_id,
            "before": _shown(entry.before),
            "after": _shown(entry.after),
        }
        for entry, email in rows[:limit]
    ]
    last = rows[limit - 1][0] if more else None
    return entries, encode_cursor(last.at, last.id) if last else None


def actor_by_email(session: Session, email: str) -> uuid.UUID | None:
    return session.exec(
        select(User.id).where(func.lower(User.email) == email.strip().lower())
    ).first()
