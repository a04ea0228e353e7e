"""Bank tokens and user logins: which bearer token each bank request carries.

Tokens are cached until shortly before expiry (and kept in the client's `TokenStore`), and
concurrent callers share one refresh; a 401 on a call made with the bank token fetches a new
token once and resends. Logging in as a user (sandbox consent signing) is here too.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from banks.errors import BankProtocolError
from banks.parsing import as_dict, parse_int
from banks.stores import TokenStore
from banks.transport import BankRequest, BankTransport
from banks.wire import BankToken


class BankAuth(BankTransport):
    """The transport plus our team's bank token at this bank."""

    # Set up by `BankClient.__init__`.
    _margin: timedelta
    _store: TokenStore
    _token_lock: asyncio.Lock
    _token: BankToken | None

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
        request = BankRequest("POST", "/auth/bank-token", params=params, use_bank_token=False)
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

    # -- requests --------------------------------------------------------------------

    async def _json(self, request: BankRequest) -> Any:
        response = await self._call(request)
        try:
            return response.json()
        except ValueError:
            raise BankProtocolError(
                f"{self.bank_code} {request.method} {request.path}: answer is not JSON",
                bank_code=self.bank_code,
                status_code=response.status_code,
            ) from None

    async def _call(self, request: BankRequest) -> httpx.Response:
        """Send with retries; a 401 on the bank token gets one new token and one resend."""
        token = await self.get_bank_token() if request.use_bank_token else request.bearer
        response = await self._send_with_retries(request, token)
        if response.status_code == 401 and request.use_bank_token:
            token = await self._renew_rejected_token(token)
            response = await self._send_with_retries(request, token)
        self._raise_for_status(request, response, token)
        return response

    async def _login(self, external_client_id: str, password: str) -> str:
        body = {"username": external_client_id, "password": password}
        request = BankRequest(
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
