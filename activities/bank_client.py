"""Async client of the sandbox open-banking API (VBank, ABank, SBank): one instance per bank.

Pointing it at a real bank instead of our emulator is only a change of `base_url` and team
credentials. Every wire shape is turned into the typed models of `activities.bank_models`.

Resilience: at most `max_concurrency` requests in flight per bank; 429 / 5xx / transport
errors are retried with exponential backoff and jitter, honouring `Retry-After`, within a
bounded number of attempts and total time; a 401 on a data call fetches a new bank token
once and retries. Tokens are cached until shortly before expiry, and concurrent callers
share one refresh. Every exchange is reported, redacted, to a `RawLogSink`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, quote_plus, urlencode

import httpx

from activities.bank_models import (
    AccountConsent,
    BankAccount,
    BankAuthError,
    BankBadRequestError,
    BankBalance,
    BankCard,
    BankError,
    BankNotFoundError,
    BankProduct,
    BankProtocolError,
    BankRateLimitedError,
    BankToken,
    BankTransaction,
    BankUnavailableError,
    ConsentRequestResult,
    ConsentRequiredError,
    ConsentSignResult,
    ProductAgreement,
    ProductAgreementConsent,
    ProductConsentRequestResult,
    RawApiLogEntry,
    as_dict,
    parse_account,
    parse_account_consent,
    parse_agreement,
    parse_balance,
    parse_card,
    parse_consent_request,
    parse_int,
    parse_product,
    parse_product_consent,
    parse_product_consent_request,
    parse_sign_result,
    parse_transaction,
    unwrap,
)

log = logging.getLogger(__name__)

DEFAULT_PERMISSIONS = ("ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail")
DEFAULT_PRODUCT_TYPES = ("deposit", "card", "loan")
MAX_LOGGED_BODY_BYTES = 4096
MAX_PAGES = 10_000
RETRYABLE_5XX = frozenset({500, 502, 503, 504})
# Failures where the request never reached the bank, so even a POST may be resent.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
T = TypeVar("T")

# -- redaction ---------------------------------------------------------------------------

REDACTED = "***"
# Names of fields and parameters whose values are credentials (a pattern, not a secret).
_SECRET_KEY = r"[A-Za-z_-]*(?:token|secret|password|passwd|authorization)[A-Za-z_-]*"  # noqa: S105
_JSON_SECRET = re.compile(rf'("{_SECRET_KEY}"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)
_QUERY_SECRET = re.compile(rf"(\b{_SECRET_KEY}=)[^&\s#\"]*", re.IGNORECASE)
_BEARER = re.compile(r"(\bBearer\s+)[^\s\"',]+", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Blank out tokens, secrets and passwords in a body, URL or query string.

    Known secret values are removed wherever they appear (also URL-encoded); then anything
    shaped like a JWT, a Bearer credential, or a JSON field / query parameter whose name says
    token, secret, password or authorization.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, REDACTED)
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    text = _JSON_SECRET.sub(rf'\g<1>"{REDACTED}"', text)
    return _QUERY_SECRET.sub(rf"\g<1>{REDACTED}", text)


def truncate_utf8(text: str, limit: int = MAX_LOGGED_BODY_BYTES) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


# -- pluggable stores ----------------------------------------------------------------------


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


# -- retries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 10.0
    # No retry starts if its wait would end later than this after the first attempt.
    max_total_s: float = 60.0
    # A longer Retry-After is not waited out here: the error goes up (Temporal retries later).
    max_retry_after_s: float = 30.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential with "equal jitter": half fixed, half random."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass
class _Request:
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


class BankClient:
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

    # -- bank token --------------------------------------------------------------------

    def _fresh(self, token: BankToken | None) -> bool:
        return token is not None and token.expires_at - self._margin > datetime.now(UTC)

    async def get_bank_token(self) -> str:
        """A valid bank token: cached, from the store, or fetched (one fetch for all waiters)."""
        if self._token is not None and self._fresh(self._token):
            return self._token.access_token
        async with self._token_lock:
            token = self._token
            if token is None or not self._fresh(token):
                token = await self._store.get(self.bank_code)
                if token is None or not self._fresh(token):
                    token = await self._new_token()
                self._token = token
            return token.access_token

    async def _renew_rejected_token(self, rejected: str | None) -> str:
        """After a 401: a new token, unless a concurrent caller has already renewed it."""
        async with self._token_lock:
            current = self._token
            if current is not None and current.access_token != rejected and self._fresh(current):
                return current.access_token
            self._token = await self._new_token()
            return self._token.access_token

    async def _new_token(self) -> BankToken:
        params = {"client_id": self.client_id, "client_secret": self._client_secret}
        request = _Request("POST", "/auth/bank-token", params=params, use_bank_token=False)
        body = as_dict(await self._json(request))
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise BankProtocolError(
                f"{self.bank_code} POST /auth/bank-token: no access_token in the answer",
                bank_code=self.bank_code,
            )
        self._recent_tokens.append(access)
        ttl = parse_int(body.get("expires_in")) or 3600
        token = BankToken(access, datetime.now(UTC) + timedelta(seconds=ttl))
        await self._store.save(self.bank_code, token)
        return token

    # -- transport ---------------------------------------------------------------------

    async def _json(self, request: _Request) -> Any:
        response = await self._call(request)
        try:
            return response.json()
        except ValueError:
            raise BankProtocolError(
                f"{self.bank_code} {request.method} {request.path}: answer is not JSON",
                bank_code=self.bank_code,
                status_code=response.status_code,
            ) from None

    async def _call(self, request: _Request) -> httpx.Response:
        """Send with retries; a 401 on the bank token gets one new token and one resend."""
        token = await self.get_bank_token() if request.use_bank_token else request.bearer
        response = await self._send_with_retries(request, token)
        if response.status_code == 401 and request.use_bank_token:
            token = await self._renew_rejected_token(token)
            response = await self._send_with_retries(request, token)
        self._raise_for_status(request, response, token)
        return response

    async def _send_with_retries(self, request: _Request, token: str | None) -> httpx.Response:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry.max_total_s
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(request, token, attempt)
            delay = self._retry_delay(request, outcome, attempt)
            out_of_budget = delay is None or loop.time() + delay > deadline
            if out_of_budget or attempt >= self.retry.max_attempts:
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
        self, request: _Request, outcome: httpx.Response | httpx.TransportError, attempt: int
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
        self, request: _Request, token: str | None, attempt: int
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

    def _secrets(self, request: _Request, token: str | None) -> list[str]:
        return [self._client_secret, token or "", *request.extra_secrets, *self._recent_tokens]

    async def _record(
        self,
        request: _Request,
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
        self, request: _Request, response: httpx.Response, token: str | None
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

    def _parse_all(self, items: Any, parser: Callable[[dict[str, Any]], T], what: str) -> list[T]:
        if not isinstance(items, list):
            message = f"{self.bank_code}: {what} is not a list"
            raise BankProtocolError(message, bank_code=self.bank_code)
        try:
            return [parser(as_dict(item)) for item in items]
        except (KeyError, ValueError, TypeError) as exc:
            raise BankProtocolError(
                f"{self.bank_code}: unreadable {what} ({type(exc).__name__}: {exc})",
                bank_code=self.bank_code,
            ) from None

    # -- account consents ----------------------------------------------------------------

    async def request_account_consent(
        self,
        external_client_id: str,
        permissions: Sequence[str] = DEFAULT_PERMISSIONS,
        reason: str = "Personal finance aggregation",
    ) -> ConsentRequestResult:
        """Ask for account access; `consent_id` is set only when the bank approved at once."""
        body = {
            "client_id": external_client_id,
            "permissions": list(permissions),
            "reason": reason,
            "requesting_bank": self.client_id,
            "requesting_bank_name": self.requesting_bank_name,
        }
        request = _Request(
            "POST",
            "/account-consents/request",
            body=body,
            idempotent=False,
            external_client_id=external_client_id,
        )
        return parse_consent_request(as_dict(await self._json(request)))

    async def get_account_consent(self, consent_or_request_id: str) -> AccountConsent:
        """A consent's status; by request id the bank may echo it with AwaitingAuthorization."""
        request = _Request("GET", f"/account-consents/{quote(consent_or_request_id, safe='')}")
        return parse_account_consent(as_dict(await self._json(request)))

    async def sign_account_consent(
        self, external_client_id: str, password: str, request_id: str, approve: bool = True
    ) -> ConsentSignResult:
        """Sandbox only: log in as the user and approve (or reject) a pending request."""
        return await self._sign(
            "/account-consents/sign", external_client_id, password, request_id, approve
        )

    async def revoke_account_consent(self, consent_id: str) -> bool:
        """Revoke; False when the bank no longer knows the consent (already gone)."""
        request = _Request("DELETE", f"/account-consents/{quote(consent_id, safe='')}")
        try:
            await self._call(request)
        except BankNotFoundError:
            return False
        return True

    async def _login(self, external_client_id: str, password: str) -> str:
        body = {"username": external_client_id, "password": password}
        request = _Request(
            "POST",
            "/auth/login",
            body=body,
            use_bank_token=False,
            external_client_id=external_client_id,
            extra_secrets=(password,),
        )
        token = as_dict(await self._json(request)).get("access_token")
        if not isinstance(token, str) or not token:
            raise BankProtocolError(
                f"{self.bank_code} POST /auth/login: no access_token", bank_code=self.bank_code
            )
        return token

    async def _sign(
        self, path: str, external_client_id: str, password: str, request_id: str, approve: bool
    ) -> ConsentSignResult:
        user_token = await self._login(external_client_id, password)
        body = {
            "request_id": request_id,
            "action": "approve" if approve else "reject",
            "signature": "password",
        }
        request = _Request(
            "POST",
            path,
            body=body,
            idempotent=False,
            use_bank_token=False,
            bearer=user_token,
            external_client_id=external_client_id,
            extra_secrets=(password, user_token),
        )
        return parse_sign_result(as_dict(await self._json(request)))

    # -- accounts data -------------------------------------------------------------------

    def _data_request(
        self, path: str, client: str, consent_id: str, params: dict[str, str] | None = None
    ) -> _Request:
        return _Request(
            "GET",
            path,
            params={"client_id": client, **(params or {})},
            headers={"X-Consent-Id": consent_id},
            external_client_id=client,
        )

    async def list_accounts(self, external_client_id: str, consent_id: str) -> list[BankAccount]:
        """The user's accounts, classified by accountSubType."""
        request = self._data_request("/accounts", external_client_id, consent_id)
        payload = await self._json(request)
        return self._parse_all(unwrap(payload, "account", "accounts"), parse_account, "accounts")

    async def get_balances(
        self, account_id: str, *, external_client_id: str, consent_id: str
    ) -> list[BankBalance]:
        """Signed balances of one account (a Loan's positive amount is its debt)."""
        path = f"/accounts/{quote(account_id, safe='')}/balances"
        payload = await self._json(self._data_request(path, external_client_id, consent_id))
        items = unwrap(payload, "balance", "balances")
        return self._parse_all(items, lambda item: parse_balance(item, account_id), "balances")

    async def list_cards(self, external_client_id: str, consent_id: str) -> list[BankCard]:
        """The user's cards (the consent needs ReadCards)."""
        payload = await self._json(self._data_request("/cards", external_client_id, consent_id))
        return self._parse_all(unwrap(payload, "cards"), parse_card, "cards")

    async def iter_transactions(
        self,
        account_id: str,
        *,
        external_client_id: str,
        consent_id: str,
        from_dt: datetime | None = None,
        to_dt: datetime | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[BankTransaction]:
        """Every transaction in [from_dt, to_dt], following pages to the end.

        The window is applied here too (some banks ignore it); ids repeated across pages
        (new entries shift offsets while we page) are yielded once.
        """
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            payload = await self._transactions_page(
                account_id, external_client_id, consent_id, (from_dt, to_dt), page, page_size
            )
            items = self._parse_all(
                unwrap(payload, "transaction", "transactions"),
                lambda item: parse_transaction(item, account_id),
                "transactions",
            )
            for tx in items:
                if tx.transaction_id not in seen and _within(tx.booked_at, from_dt, to_dt):
                    seen.add(tx.transaction_id)
                    yield tx
            # Pages come newest first: a page wholly before the window ends the walk.
            before_window = from_dt is not None and all(t.booked_at < from_dt for t in items)
            if not items or before_window or not _has_next_page(payload, page):
                return
        log.warning("%s: stopped paging %s after %d pages", self.bank_code, account_id, MAX_PAGES)

    async def _transactions_page(
        self,
        account_id: str,
        client: str,
        consent_id: str,
        window: tuple[datetime | None, datetime | None],
        page: int,
        page_size: int,
    ) -> Any:
        params = {"page": str(page), "limit": str(max(1, min(page_size, 100)))}
        if window[0] is not None:
            params["from_booking_date_time"] = _wire_datetime(window[0])
        if window[1] is not None:
            params["to_booking_date_time"] = _wire_datetime(window[1])
        path = f"/accounts/{quote(account_id, safe='')}/transactions"
        return await self._json(self._data_request(path, client, consent_id, params))

    # -- products and agreements ---------------------------------------------------------

    async def list_products(self, product_type: str | None = None) -> list[BankProduct]:
        """The bank's product catalogue (bank token only, no consent)."""
        params = {"product_type": product_type} if product_type else None
        payload = await self._json(_Request("GET", "/products", params=params))
        return self._parse_all(unwrap(payload, "product", "products"), parse_product, "products")

    async def request_product_agreement_consent(
        self,
        external_client_id: str,
        reason: str = "Personal finance aggregation",
        allowed_product_types: Sequence[str] = DEFAULT_PRODUCT_TYPES,
    ) -> ProductConsentRequestResult:
        """Ask for read access to the user's product agreements."""
        body = {
            "requesting_bank": self.client_id,
            "client_id": external_client_id,
            "read_product_agreements": True,
            "open_product_agreements": False,
            "close_product_agreements": False,
            "allowed_product_types": list(allowed_product_types),
            "reason": reason,
        }
        request = _Request(
            "POST",
            "/product-agreement-consents/request",
            params={"client_id": external_client_id},
            body=body,
            idempotent=False,
            external_client_id=external_client_id,
        )
        return parse_product_consent_request(as_dict(await self._json(request)))

    async def get_product_agreement_consent(
        self, consent_or_request_id: str
    ) -> ProductAgreementConsent:
        """A product-agreement consent (flat snake_case on the wire)."""
        path = f"/product-agreement-consents/{quote(consent_or_request_id, safe='')}"
        return parse_product_consent(as_dict(await self._json(_Request("GET", path))))

    async def sign_product_agreement_consent(
        self, external_client_id: str, password: str, request_id: str, approve: bool = True
    ) -> ConsentSignResult:
        """Sandbox only: log in as the user and sign a pending product-agreement consent."""
        return await self._sign(
            "/product-agreement-consents/sign", external_client_id, password, request_id, approve
        )

    def _agreements_request(self, path: str, client: str, consent_id: str) -> _Request:
        # Agreements use their own consent header, not X-Consent-Id.
        return _Request(
            "GET",
            path,
            params={"client_id": client},
            headers={"X-Product-Agreement-Consent-Id": consent_id},
            external_client_id=client,
        )

    async def list_product_agreements(
        self, external_client_id: str, consent_id: str
    ) -> list[ProductAgreement]:
        """The user's agreements (no rates here: see `get_product_agreement`)."""
        request = self._agreements_request("/product-agreements", external_client_id, consent_id)
        payload = await self._json(request)
        return self._parse_all(unwrap(payload, "agreements"), parse_agreement, "agreements")

    async def get_product_agreement(
        self, agreement_id: str, *, external_client_id: str, consent_id: str
    ) -> ProductAgreement:
        """One agreement with `interest_rate` and the linked account's balance."""
        path = f"/product-agreements/{quote(agreement_id, safe='')}"
        payload = await self._json(self._agreements_request(path, external_client_id, consent_id))
        return self._parse_all([unwrap(payload)], parse_agreement, "agreement")[0]


def _within(value: datetime, low: datetime | None, high: datetime | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _wire_datetime(value: datetime) -> str:
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _has_next_page(payload: Any, page: int) -> bool:
    body = as_dict(payload)
    if as_dict(body.get("links")).get("next"):
        return True
    total_pages = parse_int(as_dict(body.get("meta")).get("totalPages"))
    return total_pages is not None and total_pages > page
