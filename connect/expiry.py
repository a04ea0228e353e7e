"""A consent's end, acted on: an authorized consent past `expires_at` becomes `expired`, and
a bank whose account consent ended needs a new one (`reconsent_required`, told on the
dashboard with the day it ended). The week before, the dashboard warns
(`connections.CONSENT_EXPIRY_WARNING`). The refresh calls this first, then pauses itself
while a bank needs a new consent (sync code; activities run it in a thread).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from connect.connection_updates import apply_connection_update
from connect.connections import ENDED_STEP, ended_note
from connect.consents import unexpired
from connect.dashboard import refresh_document
from contracts import connect as c
from contracts.connect import ConnectionStatus
from core.db import session_scope
from models.base import as_utc, utcnow
from models.connect import BankConnection, Consent, ConsentEvent, ConsentKind, ConsentStatus

# A bank being connected again (consent_pending, syncing) is left to that flow.
SETTLED = (ConnectionStatus.ready, ConnectionStatus.error)


def expire_lapsed(engine: Engine, user_id: str, now: datetime | None = None) -> list[str]:
    """Mark the user's authorized consents past their end expired; returns the banks whose
    account consent ended, now `reconsent_required`."""
    moment, owner = now or utcnow(), uuid.UUID(user_id)
    with session_scope(engine) as session:
        query = select(Consent).where(
            Consent.user_id == owner,
            Consent.status == ConsentStatus.authorized,
            col(Consent.expires_at).is_not(None),
        )
        lapsed = [row for row in session.exec(query) if not unexpired(row, moment)]
        for row in lapsed:
            ended = as_utc(row.expires_at) if row.expires_at else moment
            note = f"Ended {ended.date().isoformat()}"
            row.status, row.status_reason, row.updated_at = ConsentStatus.expired, note, moment
            session.add(ConsentEvent(consent_row_id=row.id, status=row.status, note=note))
        ends = {
            row.bank_code: as_utc(row.expires_at) if row.expires_at else moment
            for row in lapsed
            if row.kind == ConsentKind.accounts
        }
        settled = select(BankConnection.bank_code).where(
            BankConnection.user_id == owner, col(BankConnection.status).in_(SETTLED)
        )
        settled_banks: list[str] = list(session.exec(settled))
        moved = sorted(set(ends).intersection(settled_banks))
        for bank in moved:
            update = c.ConnectionUpdate(
                user_id,
                bank,
                ConnectionStatus.reconsent_required,
                ENDED_STEP,
                0,
                ended_note(bank, ends[bank]),
            )
            apply_connection_update(session, update)
        if lapsed and not moved:
            refresh_document(session, owner)
        return moved
