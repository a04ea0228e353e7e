"""A user's banks as they see them: status, step, progress, consent expiry (sync code).

Written by `connect.connection_updates`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connect.consents import authorization_ends
from contracts.connect import BANK_CODES, ConnectionStatus
from models.base import utcnow
from models.connect import BankConnection, ConnectionPublic

BANK_NAMES = {"vbank": "VBank", "abank": "ABank", "sbank": "SBank"}
CONSENT_EXPIRY_WARNING = timedelta(days=7)
# The step of a bank whose consent ran out (`connect.expiry`), and what the user is told.
ENDED_STEP = "consent_expired"
# The step of a bank whose consent the user withdrew but the bank still holds
# (`connect.withdrawal`); `last_error` says what to do.
REVOKE_PENDING_STEP = "revoke_pending"


def ended_note(bank_code: str, ended: datetime) -> str:
    name = BANK_NAMES.get(bank_code, bank_code)
    return f"{name} consent ended {ended.date().isoformat()}: reconnect {name} to keep it fresh."


def connections_of(session: Session, *, user_id: uuid.UUID) -> list[ConnectionPublic]:
    """Every bank, connected or not, with when its consent ends (and whether that is soon)."""
    rows = {
        row.bank_code: row
        for row in session.exec(select(BankConnection).where(BankConnection.user_id == user_id))
    }
    expiries = authorization_ends(session, user_id=user_id)
    now = utcnow()
    result = []
    for bank in BANK_CODES:
        row = rows.get(bank)
        public = (
            ConnectionPublic.model_validate(row)
            if row
            else ConnectionPublic(
                bank_code=bank,
                status=ConnectionStatus.not_connected,
                step="",
                progress_pct=0,
                last_error=None,
                last_sync_at=None,
            )
        )
        expires = expiries.get(bank)
        public.consent_expires_at = expires
        public.consent_expiring_soon = bool(expires and expires - now < CONSENT_EXPIRY_WARNING)
        if expires and expires <= now and public.status == ConnectionStatus.ready:
            # Ended since the last refresh looked (which records it): shown as it is now.
            public.status, public.step = ConnectionStatus.reconsent_required, ENDED_STEP
            public.last_error = ended_note(bank, expires)
        result.append(public)
    return result


def banks_needing_reconsent(engine: Engine, user_id: str) -> list[str]:
    query = select(BankConnection.bank_code).where(
        BankConnection.user_id == uuid.UUID(user_id),
        BankConnection.status == ConnectionStatus.reconsent_required,
    )
    with Session(engine) as session:
        return sorted(session.exec(query))
