"""Database-backed token store and raw API log sink for the bank client."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from banks.wire import BankToken as WireToken
from banks.wire import RawApiLogEntry
from core.db import session_scope
from core.security import SecretBox
from models.base import as_utc, utcnow
from models.connect import BankToken, RawApiLog

log = logging.getLogger(__name__)

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


# One exchange to log, and the user it was made for.
LogLine = tuple[RawApiLogEntry, uuid.UUID | None]


class DbRawLogSink:
    """Writes each exchange as a request row and a response row (bodies already redacted).

    Written before `record` returns, except inside `batched()`: there lines are written a
    few at a time in the background, off the bank calls' path, and all of them by the time
    the block ends.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def record(self, entry: RawApiLogEntry) -> None:
        line = (entry, current_user_id.get())
        batch = _log_batch.get()
        if batch is None:
            await asyncio.to_thread(self._write, [line])
        else:
            batch.add(line)

    @asynccontextmanager
    async def batched(self) -> AsyncIterator[None]:
        """Log lines recorded inside the block (this task and the ones it starts) are
        written in batches, in the background; the block ends once every one is written."""
        batch = _LogBatch(self)
        token = _log_batch.set(batch)
        try:
            yield
        finally:
            _log_batch.reset(token)
            await batch.close()

    def _write(self, lines: list[LogLine]) -> None:
        # One statement for every row, no ORM objects: this runs for every page of a sync.
        rows = []
        for entry, user_id in lines:
            common: dict[str, Any] = {
                "user_id": user_id,
                "bank_code": entry.bank_code,
                "method": entry.method,
                "endpoint": entry.endpoint[:500],
                "correlation_id": entry.correlation_id,
                "created_at": utcnow(),
            }
            request = {"direction": "request", "status_code": None, "duration_ms": None}
            response = {
                "direction": "response",
                "status_code": entry.status_code,
                "duration_ms": entry.duration_ms,
            }
            rows.append({**common, **request, "body": entry.request_body})
            rows.append({**common, **response, "body": entry.response_body or entry.error})
        with self._engine.begin() as conn:
            conn.execute(insert(RawApiLog), rows)


class _LogBatch:
    """Log lines waiting to be written; at most one write in flight, so memory stays small."""

    def __init__(self, sink: DbRawLogSink) -> None:
        self._sink = sink
        self._lines: list[LogLine] = []
        self._writing: asyncio.Task[None] | None = None

    def add(self, line: LogLine) -> None:
        self._lines.append(line)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._lines:
            lines, self._lines = self._lines, []
            try:
                await asyncio.to_thread(self._sink._write, lines)
            except Exception:
                # Losing log lines must never fail a bank call (as `BankTransport._record`).
                log.warning("raw log sink failed to write %d exchange(s)", len(lines))

    async def close(self) -> None:
        # A drain runs until no line is left, and `add` starts one whenever none runs.
        while self._writing is not None and not self._writing.done():
            await self._writing


_log_batch: ContextVar[_LogBatch | None] = ContextVar("raw_log_batch", default=None)
