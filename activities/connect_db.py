"""Database side of Connect activities: connections, consents, sync runs (sync code)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from contracts import connect as c
from core.db import session_scope
from models.base import as_utc, utcnow
from models.connect import (
    BankConnection,
    ConnectionStatus,
    Consent,
    ConsentEvent,
    ConsentKind,
    ConsentStatus,
)


def update_connection(engine: Engine, update: c.ConnectionUpdate) -> None:
    with session_scope(engine) as session:
        apply_connection_update(session, update)


def apply_connection_update(session: Session, update: c.ConnectionUpdate) -> None:
    row = _connection(session, uuid.UUID(update.user_id), update.bank_code)
    row.status = ConnectionStatus(update.status)
    row.step, row.progress_pct = update.step, update.progress_pct
    row.last_error = update.last_error
    row.updated_at = utcnow()
    if update.synced:
        row.last_sync_at = utcnow()
    session.add(row)


def _connection(session: Session, user_id: uuid.UUID, bank_code: str) -> BankConnection:
    query = select(BankConnection).where(
        BankConnection.user_id == user_id, BankConnection.bank_code == bank_code
    )
    row = session.exec(query.with_for_update()).first()
    return row or BankConnection(user_id=user_id, bank_code=bank_code)


def active_consent(engine: Engine, user_id: str, bank_code: str, kind: str) -> Consent | None:
    """The consent to reuse: authorized (not expired) or still pending. One per bank and kind."""
    with Session(engine, expire_on_commit=False) as session:
        query = select(Consent).where(
            Consent.user_id == uuid.UUID(user_id),
            Consent.bank_code == bank_code,
            Consent.kind == ConsentKind(kind),
            Consent.status.in_([ConsentStatus.authorized, ConsentStatus.pending]),  # type: ignore[attr-defined]
        )
        for row in session.exec(query):
            if row.expires_at is None or as_utc(row.expires_at) > utcnow():
                return row
    return None


def consent_by_id(engine: Engine, consent_row_id: str) -> Consent:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(Consent, uuid.UUID(consent_row_id))
        if row is None:
            raise LookupError(f"consent {consent_row_id} not found")
        return row


def create_consent(engine: Engine, consent: Consent) -> Consent:
    with session_scope(engine) as session:
        session.add(consent)
        session.flush()
        session.add(
            ConsentEvent(consent_row_id=consent.id, status=consent.status, note="requested")
        )
        return consent


def record_consent(
    engine: Engine,
    consent_row_id: uuid.UUID,
    status: ConsentStatus,
    note: str | None = None,
    consent_id: str | None = None,
    expires_at: datetime | None = None,
) -> Consent:
    """Save a consent's status; a change of status is added to its history."""
    with session_scope(engine) as session:
        row = session.get(Consent, consent_row_id, with_for_update=True)
        if row is None:
            raise LookupError(f"consent {consent_row_id} not found")
        if row.status != status:
            session.add(ConsentEvent(consent_row_id=row.id, status=status, note=note))
        row.status, row.updated_at = status, utcnow()
        row.consent_id = consent_id or row.consent_id
        row.expires_at = expires_at or row.expires_at
        row.status_reason = note or row.status_reason
        session.add(row)
        return row


def revoke_other_consents(engine: Engine, keep: Consent) -> list[str]:
    """Mark older consents of the same bank and kind revoked; returns their bank consent ids."""
    with session_scope(engine) as session:
        query = select(Consent).where(
            Consent.user_id == keep.user_id,
            Consent.bank_code == keep.bank_code,
            Consent.kind == keep.kind,
            Consent.id != keep.id,
            Consent.status.in_([ConsentStatus.authorized, ConsentStatus.pending]),  # type: ignore[attr-defined]
        )
        revoked = []
        for row in session.exec(query):
            row.status, row.updated_at = ConsentStatus.revoked, utcnow()
            session.add(ConsentEvent(consent_row_id=row.id, status=row.status, note="superseded"))
            if row.consent_id:
                revoked.append(row.consent_id)
        return revoked


def mark_consent_required(engine: Engine, user_id: str, bank_code: str, reason: str) -> None:
    """The bank answered CONSENT_REQUIRED: the stored consent is no longer valid."""
    with session_scope(engine) as session:
        query = select(Consent).where(
            Consent.user_id == uuid.UUID(user_id),
            Consent.bank_code == bank_code,
            Consent.kind == ConsentKind.accounts,
            Consent.status == ConsentStatus.authorized,
        )
        for row in session.exec(query):
            row.status, row.status_reason, row.updated_at = ConsentStatus.revoked, reason, utcnow()
            session.add(ConsentEvent(consent_row_id=row.id, status=row.status, note=reason))
