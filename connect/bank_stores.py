"""Database-backed token store and raw API log sink for the bank client."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from banks.wire import BankToken as WireToken
from banks.wire import RawApiLogEntry
from core.db import session_scope
from core.security import SecretBox
from models.base import as_utc, utcnow
from models.connect import BankToken, RawApiLog

# The user an activity is working for; raw log rows are attributed to them.
current_user_id: ContextVar[uuid.UUID | None] = ContextVar("current_user_id", default=None)


@contextmanager
def acting_for(user_id: uuid.UUID | str | None) -> Iterator[None]:
    """Attribute the bank exchanges made inside this block to the user (raw API log)."""
    token = current_user_id.set(uuid.UUID(str(user_id)) if user_id else None)
    try:
        yield
    finally:
        current_user_id.reset(token)


class DbTokenStore:
    """Bank tokens shared by every worker process, Fernet-encrypted at rest."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self._engine, self._box = engine, box

    async def get(self, bank_code: str) -> WireToken | None:
        return await asyncio.to_thread(self._get, bank_code)

    def _get(self, bank_code: str) -> WireToken | None:
        with Session(self._engine) as session:
            row = session.get(BankToken, bank_code)
            if row is None:
                return None
            return WireToken(self._box.decrypt(row.token_encrypted), as_utc(row.expires_at))

    async def save(self, bank_code: str, token: WireToken) -> None:
        await asyncio.to_thread(self._save, bank_code, token.access_token, token.expires_at)

    def _save(self, bank_code: str, access_token: str, expires_at: datetime) -> None:
        with session_scope(self._engine) as session:
            row = session.get(BankToken, bank_code, with_for_update=True)
            row = row or BankToken(bank_code=bank_code, token_encrypted="", expires_at=expires_at)
            row.token_encrypted = self._box.encrypt(access_token)
            row.expires_at, row.updated_at = expires_at, utcnow()
            session.add(row)


class DbRawLogSink:
    """Writes each exchange as a request row and a response row (bodies already redacted)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def record(self, entry: RawApiLogEntry) -> None:
        await asyncio.to_thread(self._write, entry, current_user_id.get())

    def _write(self, entry: RawApiLogEntry, user_id: uuid.UUID | None) -> None:
        def row(direction: str, body: str | None, status: int | None = None) -> RawApiLog:
            return RawApiLog(
                user_id=user_id,
                bank_code=entry.bank_code,
                method=entry.method,
                endpoint=entry.endpoint[:500],
                direction=direction,
                status_code=status,
                body=body,
                correlation_id=entry.correlation_id,
                duration_ms=entry.duration_ms if direction == "response" else None,
            )

        with session_scope(self._engine) as session:
            session.add(row("request", entry.request_body))
            session.add(row("response", entry.response_body or entry.error, entry.status_code))
