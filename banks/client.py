"""Async client of the sandbox open-banking API (VBank, ABank, SBank): one instance per bank.

Pointing it at a real bank instead of our emulator is only a change of `base_url` and team
credentials. Every wire shape is turned into the typed models of `banks.wire`.

Resilience: at most `max_concurrency` requests in flight per bank; 429 / 5xx / transport
errors are retried with exponential backoff and jitter, honouring `Retry-After`, within a
bounded number of attempts and total time; a 401 on a data call fetches a new bank token
once and retries. Tokens are cached until shortly before expiry, and concurrent callers
share one refresh. Every exchange is reported, redacted, to a `RawLogSink`.

The calls are layered: `banks.transport` (send, retry, log, map errors) → `banks.auth` (bank
token, user login) → `banks.consents` and `banks.data` (the API calls); `BankClient` holds
the state they share and its lifetime.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from datetime import timedelta

import httpx

from banks.consents import ConsentCalls
from banks.data import DataCalls
from banks.retry import RetryPolicy
from banks.stores import InMemoryTokenStore, RawLogSink, TokenStore
from banks.wire import BankToken


class BankClient(ConsentCalls, DataCalls):
    """One bank, our team's identity at it, and the user-level calls the sync needs."""

    def __init__(
        self,
        bank_code: str,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        requesting_bank_name: str = "JivaPay",
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        timeout_s: float = 20.0,
        token_refresh_margin_s: float = 300.0,
        token_store: TokenStore | None = None,
        log_sink: RawLogSink | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.bank_code = bank_code
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.requesting_bank_name = requesting_bank_name
        self.retry = retry or RetryPolicy()
        self._margin = timedelta(seconds=token_refresh_margin_s)
        self._store: TokenStore = token_store or InMemoryTokenStore()
        self._sink = log_sink
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout_s)
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._token_lock = asyncio.Lock()
        self._token: BankToken | None = None
        self._recent_tokens: deque[str] = deque(maxlen=8)
        self._rng = random.Random()  # noqa: S311 - jitter, not security

    def __repr__(self) -> str:
        return f"BankClient({self.bank_code!r}, {self.base_url!r}, client_id={self.client_id!r})"

    async def __aenter__(self) -> BankClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
