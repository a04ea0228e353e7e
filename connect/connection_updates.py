"""Writing a user's bank connection state (onboarding / sync progress, revocations), with
the user's stored dashboard rewritten in the same transaction (sync code)."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connect.dashboard import mark_stale, refresh_document
from contracts import connect as c
from contracts.connect import ConnectionStatus
from core.db import session_scope
from models.base import utcnow
from models.connect import BankConnection


def update_connection(
    engine: Engine, update: c.ConnectionUpdate, *, only_from_step: str | None = None
) -> None:
    """Write the update; with `only_from_step`, only while the bank is still at that step
    (a late writer must not undo what a newer flow, such as a reconnect, wrote since)."""
    with session_scope(engine) as session:
        apply_connection_update(session, update, only_from_step)


def apply_connection_update(
    session: Session, update: c.ConnectionUpdate, only_from_step: str | None = None
) -> None:
    user_id = uuid.UUID(update.user_id)
    row = _connection(session, user_id, update.bank_code)
    if only_from_step is not None and row.step != only_from_step:
        return
    moved = row.status != ConnectionStatus(update.status) or bool(update.last_error)
    row.status = ConnectionStatus(update.status)
    row.step, row.progress_pct = update.step, update.progress_pct
    row.last_error = update.last_error
    row.updated_at = utcnow()
    if update.synced:
        row.last_sync_at = utcnow()
    if update.warnings is not None:
        row.warnings = [{"code": w.code, "message": w.message} for w in update.warnings]
    session.add(row)
    if moved or update.synced or update.warnings is not None:
        refresh_document(session, user_id)
    else:  # progress within the same status: shown from the next read
        mark_stale(session, user_id)


def _connection(session: Session, user_id: uuid.UUID, bank_code: str) -> BankConnection:
    query = select(BankConnection).where(
        BankConnection.user_id == user_id, BankConnection.bank_code == bank_code
    )
    row = session.exec(query.with_for_update()).first()
    return row or BankConnection(user_id=user_id, bank_code=bank_code)
