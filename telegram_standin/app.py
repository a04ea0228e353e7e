"""The Bot API stand-in: `{base}/bot<token>/<method>` answers like Telegram does
(`{"ok": true, "result": …}`, or `{"ok": false, "error_code", "description"}` with that HTTP
status), taking parameters from the query string, a form or a JSON body.

Its own routes under `/stand-in/` show what the bot sent (`GET /stand-in/messages`), let a
user write to the bot (`POST /stand-in/updates`), block the bot in a chat (then
`sendMessage` answers 403 like Telegram) and make the next calls fail (a 502, as a proxy in
front of an unreachable Bot API would), to see retries.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

# A bot token as Telegram issues them: the bot's id, a colon, the secret part. The stand-in
# serves any well-formed token (the bot's id is read from it); a malformed one is 401.
TOKEN = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{8,64}$")
BOT_USERNAME = "jivapay_standin_bot"


@dataclass
class BotState:
    bot_id: int = 0
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    failures: int = 0  # the next calls that answer 502
    failing_method: str | None = None
    update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "JivaPay",
            "username": BOT_USERNAME,
        }


class UserText(BaseModel):
    chat_id: int = Field(gt=0)
    text: str = Field(min_length=1, max_length=4096)
    first_name: str = "Demo"


class Faults(BaseModel):
    fail_next: int = Field(ge=0, le=100)
    method: str | None = None  # only this method fails (null: every method)


def ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def error(code: int, description: str, **extra: Any) -> JSONResponse:
    body = {"ok": False, "error_code": code, "description": description, **extra}
    return JSONResponse(body, status_code=code)


async def params(request: Request) -> dict[str, Any]:
    values: dict[str, Any] = dict(request.query_params)
    kind = request.headers.get("content-type", "")
    if "application/json" in kind:
        body = await request.json()
        values.update(body if isinstance(body, dict) else {})
    elif "form" in kind:
        values.update(dict(await request.form()))
    return values


def get_updates(state: BotState, p: dict[str, Any]) -> JSONResponse:
    offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
    if not 1 <= limit <= 100:
        return error(400, "Bad Request: limit must be between 1 and 100")
    if offset:  # asking from an id confirms every update before it
        state.updates = [u for u in state.updates if u["update_id"] >= offset]
    return ok(state.updates[:limit])


def send_message(state: BotState, p: dict[str, Any]) -> JSONResponse:
    text = str(p.get("text") or "")
    try:
        chat_id = int(p.get("chat_id", ""))
    except ValueError:
        return error(400, "Bad Request: chat not found")
    if not text:
        return error(400, "Bad Request: message text is empty")
    if len(text) > 4096:
        return error(400, "Bad Request: message is too long")
    if chat_id in state.blocked:
        return error(403, "Forbidden: bot was blocked by the user")
    message = {
        "message_id": next(state.message_ids),
        "from": state.bot_user(),
        "chat": {"id": chat_id, "type": "private"},
        "date": int(time.time()),
        "text": text,
    }
    state.sent.append(message)
    return ok(message)


def create_standin_app() -> FastAPI:
    app = FastAPI(title="Telegram Bot API stand-in")
    state = BotState()
    app.state.bot = state

    @app.api_route("/bot{token}/{method}", methods=["GET", "POST"])
    async def bot_method(token: str, method: str, request: Request) -> JSONResponse:
        valid = TOKEN.match(token)
        if valid is None:
            return error(401, "Unauthorized")
        state.bot_id = int(valid.group(1))
        if state.failures and state.failing_method in (None, method):
            state.failures -= 1
            return JSONResponse({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
        p = await params(request)
        if method == "getMe":
            return ok(state.bot_user())
        if method == "sendMessage":
            return send_message(state, p)
        if method == "getUpdates":
            return get_updates(state, p)
        return error(404, "Not Found")

    @app.get("/stand-in/messages")
    async def messages(chat_id: int | None = None) -> dict[str, Any]:
        """What the bot sent, oldest first (one chat's with `chat_id`)."""
        sent = [m for m in state.sent if chat_id is None or m["chat"]["id"] == chat_id]
        return {"messages": sent}

    @app.post("/stand-in/updates")
    async def user_writes(body: UserText) -> dict[str, Any]:
        """A user sends the bot a text (e.g. `/start <code>`): an update for `getUpdates`."""
        user = {"id": body.chat_id, "is_bot": False, "first_name": body.first_name}
        update = {
            "update_id": next(state.update_ids),
            "message": {
                "message_id": next(state.message_ids),
                "from": user,
                "chat": {"id": body.chat_id, "type": "private", "first_name": body.first_name},
                "date": int(time.time()),
                "text": body.text,
            },
        }
        state.updates.append(update)
        return update

    @app.post("/stand-in/chats/{chat_id}/block")
    async def block(chat_id: int) -> dict[str, Any]:
        state.blocked.add(chat_id)
        return {"blocked": sorted(state.blocked)}

    @app.post("/stand-in/faults")
    async def faults(body: Faults) -> dict[str, Any]:
        state.failures, state.failing_method = body.fail_next, body.method
        return {"fail_next": state.failures, "method": state.failing_method}

    return app
