"""The outbox: domain code writes a notification in the transaction of the state change it
tells about, so a committed change always has its notification and a rolled back one never
does. A deterministic dedup key (event, object, recipient, step) makes a retried step write
it once. The delivery workflow is started by the sweep (`dispatch.py`).

Payloads carry ids, amounts and masked numbers only (`****1234`): they are rendered into
messages as they are.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from contracts.notifications import URGENT_KINDS, NotificationKind
from models.amounts import to_decimal
from models.base import new_id, utcnow
from models.notifications import Notification
from models.traders import Currency, Trader
from models.users import Role, User

# Staff who approve deposits and withdrawals (a `finance` role, where there is one, too).
APPROVER_ROLES = [Role.admin.value, "finance"]


def mask(number_last4: str | None) -> str:
    """A card or account number as every message shows it: its last four digits only."""
    return f"****{(number_last4 or '')[-4:]}"


def amount(session: Session, amount_minor: int | None, currency: str) -> str:
    # Read here, not through the ledger (which writes notifications itself).
    row = session.get(Currency, currency)
    return to_decimal(amount_minor or 0, row.minor_units if row else 2)


def notify(
    session: Session, user_id: uuid.UUID, kind: NotificationKind, payload: dict[str, Any],
    dedup_key: str,
) -> bool:  # fmt: skip
    """Write one notification in the caller's transaction; False when the key exists (a
    retried step). `INSERT … ON CONFLICT DO NOTHING`: a concurrent twin waits, then skips."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Notification)
        .values(
            id=new_id(),
            user_id=user_id,
            kind=kind.value,
            payload=payload,
            urgent=kind in URGENT_KINDS,
            dedup_key=dedup_key[:200],
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        # RETURNING, not rowcount: psycopg reports -1 for an upsert's count.
        .returning(col(Notification.id))
    )
    return session.connection().execute(statement).first() is not None


def notify_trader(
    session: Session, trader_id: uuid.UUID | None, kind: NotificationKind,
    payload: dict[str, Any], dedup_key: str,
) -> bool:  # fmt: skip
    user_id = session.exec(select(Trader.user_id).where(Trader.id == trader_id)).first()
    return user_id is not None and notify(session, user_id, kind, payload, dedup_key)


def notify_staff(
    session: Session, kind: NotificationKind, payload: dict[str, Any], dedup_key: str
) -> int:
    """One notification per active approver (each with their own key)."""
    roles = [role for role in APPROVER_ROLES if role in Role.__members__.values()]
    staff = session.exec(
        select(User.id).where(col(User.role).in_(roles), col(User.is_active).is_(True))
    ).all()
    return sum(
        notify(session, user_id, kind, payload, f"{dedup_key}:{user_id}") for user_id in staff
    )
