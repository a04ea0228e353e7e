"""The Telegram Bot API over httpx: `POST {base}/bot{token}/{method}` with a JSON body,
answered `{"ok": true, "result": …}` or `{"ok": false, "error_code", "description"}`.

The token is part of every URL, so no URL, request or httpx exception text leaves this
module: errors carry the method, the API's code and its description only.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

# Refusals that another try will not change: a blocked bot or a deactivated user (403),
# a chat that does not exist or a malformed message (400).
PERMANENT_CODES = frozenset({400, 403})


class TelegramError(Exception):
    def __init__(self, method: str, code: int | None, description: str) -> None:
        super().__init__(f"telegram {method}: {code or 'no answer'} {description}"[:300])
        self.code = code
        self.permanent = code in PERMANENT_CODES


class BotApi:
    def __init__(self, base_url: str, token: SecretStr, http: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._http = http

    async def call(self, method: str, body: dict[str, Any]) -> Any:
        url = f"{self._base}/bot{self._token.get_secret_value()}/{method}"
        try:
            response = await self._http.post(url, json=body, timeout=10)
            answer = response.json()
        except httpx.HTTPError as exc:
            raise TelegramError(method, None, type(exc).__name__) from None
        except ValueError:
            raise TelegramError(method, response.status_code, "not JSON") from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            answer = answer if isinstance(answer, dict) else {}
            code = answer.get("error_code") or response.status_code
            raise TelegramError(method, int(code), str(answer.get("description", "")))
        return answer.get("result")

    async def get_me(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("getMe", {})
        return result

    async def send_message(self, chat_id: int, text: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return result

    async def get_updates(self, offset: int | None, limit: int = 100) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"timeout": 0, "limit": limit, "allowed_updates": ["message"]}
        if offset is not None:
            body["offset"] = offset
        result: list[dict[str, Any]] = await self.call("getUpdates", body)
        return result
