"""Which consents count: the one rule for a live consent, and the reads built on it.

A consent is *live* when the bank authorized it and it has not expired (no end date counts
as live). Every question "may we read this bank?" — sync, refresh, the API's sync button,
expiry warnings — goes through `live_consent` / `live_consents`. Sync code: activities run
it in threads.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.base import as_utc, utcnow
from models.connect import Consent, ConsentKind, ConsentStatus

OPEN = (ConsentStatus.authorized, ConsentStatus.pending)


def unexpired(row: Consent, now: datetime) -> bool:
    return row.expires_at is None or as_utc(row.expires_at) > now


def is_live(row: Consent, now: datetime) -> bool:
    return row.status == ConsentStatus.authorized and unexpired(row, now)


def _of_user(
    user_id: uuid.UUID, kind: ConsentKind, statuses: Iterable[ConsentStatus]
) -> SelectOfScalar[Consent]:
    return select(Consent).where(
        Consent.user_id == user_id, Consent.kind == kind, col(Consent.status).in_(list(statuses))
    )


def live_consents(
    session: Session,
    *,
    user_id: uuid.UUID,
    kind: ConsentKind = ConsentKind.accounts,
    now: datetime | None = None,
) -> dict[str, Consent]:
    """The user's live consent of this kind per bank code."""
    moment = now or utcnow()
    rows = session.exec(_of_user(user_id, kind, [ConsentStatus.authorized]))
    return {row.bank_code: row for row in rows if is_live(row, moment)}


def live_consent(
    session: Session,
    *,
    user_id: uuid.UUID,
    bank_code: str,
    kind: ConsentKind = ConsentKind.accounts,
) -> Consent | None:
    return live_consents(session, user_id=user_id, kind=kind).get(bank_code)


def live_banks(engine: Engine, user_id: str) -> list[str]:
    """Banks the user's data may be read from now (a live accounts consent), in code order."""
    with Session(engine) as session:
        return sorted(live_consents(session, user_id=uuid.UUID(user_id)))


def authorization_ends(session: Session, *, user_id: uuid.UUID) -> dict[str, datetime]:
    """When each bank's account authorization ends — also when it already has (so the user
    is told), which is why this reads authorized consents whether live or not."""
    rows = session.exec(_of_user(user_id, ConsentKind.accounts, [ConsentStatus.authorized]))
    return {row.bank_code: as_utc(row.expires_at) for row in rows if row.expires_at}


def reusable_consent(engine: Engine, user_id: str, bank_code: str, kind: str) -> Consent | None:
    """The consent a new request should reuse: live, or still pending and unexpired."""
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        query = _of_user(uuid.UUID(user_id), ConsentKind(kind), OPEN)
        for row in session.exec(query):
            if row.bank_code == bank_code and unexpired(row, now):
                return row
    return None


def consent_by_id(engine: Engine, consent_row_id: str) -> Consent:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(Consent, uuid.UUID(consent_row_id))
        if row is None:
            raise LookupError(f"consent {consent_row_id} not found")
        return row
