"""One bank request on the wire: retries with backoff, a raw log line per attempt, typed errors.

At most `max_concurrency` requests are in flight per bank; 429 / 5xx / transport errors are
retried with exponential backoff and jitter, honouring `Retry-After`, within a bounded
number of attempts and total time (`banks.retry`). Every exchange is reported, redacted, to
the client's `RawLogSink`; a final error status becomes a `banks.errors` exception. Which
bearer token a request carries is decided one layer up, in `banks.auth`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from banks.errors import (
    BankAuthError,
    BankBadRequestError,
    BankError,
    BankNotFoundError,
    BankRateLimitedError,
    BankUnavailableError,
    ConsentRequiredError,
)
from banks.parsing import as_dict
from banks.redaction import redact, truncate_utf8
from banks.retry import RetryPolicy, retry_after_seconds
from banks.stores import RawLogSink
from banks.wire import RawApiLogEntry

log = logging.getLogger(__name__)

RETRYABLE_5XX = frozenset({500, 502, 503, 504})
# Failures where the request never reached the bank, so even a POST may be resent.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class BankRequest:
    method: str
    path: str
    params: dict[str, str] | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # False for calls a bank may have applied even if we saw no answer (creating consents).
    idempotent: bool = True
    external_client_id: str | None = None
    use_bank_token: bool = True
    bearer: str | None = None
    extra_secrets: tuple[str, ...] = ()
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def endpoint(self) -> str:
        return self.path + ("?" + urlencode(self.params) if self.params else "")


_ERRORS_BY_STATUS: dict[int, type[BankError]] = {
    401: BankAuthError,
    403: BankAuthError,
    404: BankNotFoundError,
    429: BankRateLimitedError,
}


def _is_consent_required(payload: Any) -> bool:
    detail = as_dict(payload).get("detail")
    if isinstance(detail, dict):
        return str(detail.get("error", "")).upper() == "CONSENT_REQUIRED"
    return "consent" in str(detail).lower()


class BankTransport:
    """Sending, retrying, logging and error mapping for one bank; `BankClient` builds on it."""

    # Set up by `BankClient.__init__`.
    bank_code: str
    base_url: str
    client_id: str
    retry: RetryPolicy
    _client_secret: str
    _sink: RawLogSink | None
    _http: httpx.AsyncClient
    _semaphore: asyncio.Semaphore
    # Bank tokens fetched lately, redacted from every log line even after they are replaced.
    _recent_tokens: deque[str]
    _rng: random.Random

    async def _send_with_retries(self, request: BankRequest, token: str | None) -> httpx.Response:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry.max_total_s
        attempt = failures = limited = 0
        while True:
            attempt += 1
            outcome = await self._attempt(request, token, attempt)
            rate_limited = isinstance(outcome, httpx.Response) and outcome.status_code == 429
            limited += rate_limited
            failures += not rate_limited
            delay = self._retry_delay(request, outcome, failures if not rate_limited else limited)
            out_of_budget = delay is None or loop.time() + delay > deadline
            spent = failures >= self.retry.max_attempts or limited >= self.retry.max_rate_limited
            if out_of_budget or spent:
                if isinstance(outcome, httpx.TransportError):
                    raise BankUnavailableError(
                        f"{self.bank_code} {request.method} {request.path}: "
                        f"{type(outcome).__name__} after {attempt} attempt(s)",
                        bank_code=self.bank_code,
                    ) from None
                return outcome
            assert delay is not None
            await asyncio.sleep(delay)

    def _retry_delay(
        self, request: BankRequest, outcome: httpx.Response | httpx.TransportError, attempt: int
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when this outcome is final."""
        backoff = self.retry.backoff(attempt, self._rng)
        if isinstance(outcome, httpx.TransportError):
            # Without an answer a POST may have been applied, unless it was never sent.
            resend = request.idempotent or isinstance(outcome, NOT_SENT_ERRORS)
            return backoff if resend else None
        status = outcome.status_code
        # A 429 comes from the bank's proxy before the request is handled: always safe.
        if status != 429 and not (status in RETRYABLE_5XX and request.idempotent):
            return None
        wait = retry_after_seconds(outcome.headers.get("Retry-After"))
        if wait is None:
            return backoff
        if wait > self.retry.max_retry_after_s:
            return None
        return wait + self._rng.uniform(0, self.retry.base_delay_s / 4)

    async def _attempt(
        self, request: BankRequest, token: str | None, attempt: int
    ) -> httpx.Response | httpx.TransportError:
        headers = {"Accept": "application/json", **request.headers}
        if token:
            headers["Authorization"] = f"Bearer {token}"
            headers["X-Requesting-Bank"] = self.client_id
        outcome: httpx.Response | httpx.TransportError
        async with self._semaphore:
            started = time.perf_counter()
            try:
                outcome = await self._http.request(
                    request.method,
                    self.base_url + request.path,
                    params=request.params,
                    json=request.body,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                outcome = exc
            duration_ms = int((time.perf_counter() - started) * 1000)
        await self._record(request, outcome, attempt, duration_ms, token)
        return outcome

    def _secrets(self, request: BankRequest, token: str | None) -> list[str]:
        return [self._client_secret, token or "", *request.extra_secrets, *self._recent_tokens]

    async def _record(
        self,
        request: BankRequest,
        outcome: httpx.Response | httpx.TransportError,
        attempt: int,
        duration_ms: int,
        token: str | None,
    ) -> None:
        if self._sink is None:
            return
        secrets = self._secrets(request, token)
        response = outcome if isinstance(outcome, httpx.Response) else None
        sent = None
        if request.body is not None:
            sent = truncate_utf8(redact(json.dumps(request.body, ensure_ascii=False), secrets))
        entry = RawApiLogEntry(
            bank_code=self.bank_code,
            method=request.method,
            endpoint=redact(request.endpoint, secrets),
            status_code=response.status_code if response is not None else None,
            request_body=sent,
            response_body=truncate_utf8(redact(response.text, secrets)) if response else None,
            correlation_id=request.correlation_id,
            duration_ms=duration_ms,
            external_client_id=request.external_client_id,
            attempt=attempt,
            error=type(outcome).__name__ if response is None else None,
            occurred_at=datetime.now(UTC),
        )
        try:
            await self._sink.record(entry)
        except Exception:
            # Losing a log line must never fail a bank call.
            log.warning("raw log sink failed for %s %s", self.bank_code, request.path)

    def _raise_for_status(
        self, request: BankRequest, response: httpx.Response, token: str | None
    ) -> None:
        status = response.status_code
        if status < 400:
            return
        try:
            payload = response.json()
        except ValueError:
            payload = {"detail": response.text}
        detail = redact(json.dumps(as_dict(payload).get("detail", payload), ensure_ascii=False))
        detail = truncate_utf8(redact(detail, self._secrets(request, token)), 300)
        message = f"{self.bank_code} {request.method} {request.path} → {status}: {detail}"
        kwargs: dict[str, Any] = {"bank_code": self.bank_code}
        if status == 403 and _is_consent_required(payload):
            raise ConsentRequiredError(message, status_code=status, **kwargs)
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            raise BankRateLimitedError(message, retry_after_s=wait, **kwargs)
        error = _ERRORS_BY_STATUS.get(status)
        if error is None:
            error = BankUnavailableError if status >= 500 else BankBadRequestError
        raise error(message, status_code=status, **kwargs)
