"""Pluggable stores of the bank client: where bank tokens are kept and where exchanges are logged.

The protocols (`TokenStore`, `RawLogSink`) and in-memory implementations for tests and
scripts; the database-backed ones live in `activities/bank_stores.py`. Standard library only.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from banks.wire import BankToken, RawApiLogEntry


class TokenStore(Protocol):
    """Where bank tokens are kept between calls and processes (the DB one encrypts them)."""

    async def get(self, bank_code: str) -> BankToken | None: ...

    async def save(self, bank_code: str, token: BankToken) -> None: ...


class InMemoryTokenStore:
    def __init__(self) -> None:
        self._tokens: dict[str, BankToken] = {}

    async def get(self, bank_code: str) -> BankToken | None:
        return self._tokens.get(bank_code)

    async def save(self, bank_code: str, token: BankToken) -> None:
        self._tokens[bank_code] = token


class RawLogSink(Protocol):
    """Receives every request/response exchange, already redacted and truncated."""

    async def record(self, entry: RawApiLogEntry) -> None: ...


class InMemoryRawLogSink:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.entries: deque[RawApiLogEntry] = deque(maxlen=max_entries)

    async def record(self, entry: RawApiLogEntry) -> None:
        self.entries.append(entry)
