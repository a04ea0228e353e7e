"""The consent rows: every status change is added to the consent's history, and the user's
stored dashboard is rewritten in the same transaction when what it shows changed (sync code;
activities run it in threads)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from connect.consents import OPEN
from connect.dashboard import refresh_document
from contracts import connect as c
from core.db import session_scope
from models.base import utcnow
from models.connect import Consent, ConsentEvent, ConsentKind, ConsentStatus

# What a revoke still has to do something about: open, or withdrawn but held by the bank.
WITHDRAWABLE = (*OPEN, ConsentStatus.revoke_pending)


def consent_state(row: Consent) -> c.ConsentState:
    return c.ConsentState(
        consent_row_id=str(row.id),
        bank_code=row.bank_code,
        kind=row.kind.value,
        status=row.status.value,
        auto_approved=row.auto_approved,
        reason=row.status_reason,
    )


def create_consent(engine: Engine, consent: Consent) -> Consent:
    with session_scope(engine) as session:
        session.add(consent)
        session.flush()
        session.add(
            ConsentEvent(consent_row_id=consent.id, status=consent.status, note="requested")
        )
        refresh_document(session, consent.user_id)
        return consent


def record_consent(
    engine: Engine,
    consent_row_id: uuid.UUID,
    status: ConsentStatus,
    note: str | None = None,
    consent_id: str | None = None,
    expires_at: datetime | None = None,
    only_from: ConsentStatus | None = None,
) -> Consent:
    """Save a consent's status; a change of status is added to its history. With
    `only_from`, only a row still in that status changes (under the row's lock): a poll that
    read it pending must not overwrite a withdrawal made while it asked the bank."""
    with session_scope(engine) as session:
        row = session.get(Consent, consent_row_id, with_for_update=True)
        if row is None:
            raise LookupError(f"consent {consent_row_id} not found")
        if only_from is not None and row.status != only_from:
            return row
        # The dashboard shows a consent's status and expiry only: a poll that finds it still
        # pending leaves the document as it is.
        shown = row.status != status or (expires_at or row.expires_at) != row.expires_at
        if row.status != status:
            session.add(ConsentEvent(consent_row_id=row.id, status=status, note=note))
        row.status, row.updated_at = status, utcnow()
        row.consent_id = consent_id or row.consent_id
        row.expires_at = expires_at or row.expires_at
        row.status_reason = note or row.status_reason
        session.add(row)
        if shown:
            refresh_document(session, row.user_id)
        return row


def revoke_other_consents(engine: Engine, keep: Consent) -> list[str]:
    """Mark older consents of the same bank and kind revoked; returns their bank consent ids."""
    with session_scope(engine) as session:
        query = select(Consent).where(
            Consent.user_id == keep.user_id,
            Consent.bank_code == keep.bank_code,
            Consent.kind == keep.kind,
            Consent.id != keep.id,
            col(Consent.status).in_(OPEN),
        )
        revoked, changed = [], False
        for row in session.exec(query):
            row.status, row.updated_at, changed = ConsentStatus.revoked, utcnow(), True
            session.add(ConsentEvent(consent_row_id=row.id, status=row.status, note="superseded"))
            if row.consent_id:
                revoked.append(row.consent_id)
        if changed:
            refresh_document(session, keep.user_id)
        return revoked


def consents_in(
    engine: Engine,
    user_id: uuid.UUID,
    bank_code: str | None,
    kinds: tuple[ConsentKind, ...],
    statuses: tuple[ConsentStatus, ...],
) -> list[Consent]:
    """The user's consents of these kinds and statuses, at one bank or at all (None)."""
    with Session(engine, expire_on_commit=False) as session:
        query = select(Consent).where(
            Consent.user_id == user_id,
            col(Consent.kind).in_(kinds),
            col(Consent.status).in_(statuses),
        )
        if bank_code is not None:
            query = query.where(Consent.bank_code == bank_code)
        return list(session.exec(query.order_by(col(Consent.created_at))))


def mark_consent_required(engine: Engine, user_id: str, bank_code: str, reason: str) -> None:
    """The bank answered CONSENT_REQUIRED to an account data call: the stored consent is no
    longer valid (revoked at the bank), and neither is the agreement consent given with it."""
    with session_scope(engine) as session:
        query = select(Consent).where(
            Consent.user_id == uuid.UUID(user_id),
            Consent.bank_code == bank_code,
            Consent.status == ConsentStatus.authorized,
        )
        changed = False
        for row in session.exec(query):
            row.status, row.status_reason, row.updated_at = ConsentStatus.revoked, reason, utcnow()
            session.add(ConsentEvent(consent_row_id=row.id, status=row.status, note=reason))
            changed = True
        if changed:
            refresh_document(session, uuid.UUID(user_id))
