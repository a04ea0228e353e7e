"""Telegram end to end: a trader links a chat with a one-time code sent to the bot (the Bot
API stand-in), a pay-in matched to their requisite arrives in that chat (masked number
only), the web list shows it; retries on a failing Bot API, no retry on a blocked chat."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlmodel import Session, col, select

from api.pages.session import COOKIE
from contracts.notifications import NotificationKind
from core.context import ServiceContext
from core.db import session_scope
from core.logging import redact_secrets
from models.base import utcnow
from models.notifications import (
    Notification,
    NotificationDelivery,
    NotificationSettings,
    TelegramLinkCode,
)
from models.users import Role
from processing.notifications.outbox import notify
from tests.factories import actor
from tests.notifications.conftest import Kit, user_of
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body

LINK = "/api/me/notifications/telegram/link"


async def link(api: httpx.AsyncClient, kit: Kit, headers: dict[str, str], chat_id: int) -> str:
    answer = await api.post(LINK, headers=headers)
    assert answer.status_code == 201, answer.text
    code = answer.json()["code"]
    assert answer.json()["command"] == f"/start {code}"
    await kit.user_writes(chat_id, f"/start {code}")
    return str(code)


def chat_of(kit: Kit, user_id: uuid.UUID) -> int | None:
    with Session(kit.ctx.engine) as session:
        row = session.get(NotificationSettings, user_id)
        return row.telegram_chat_id if row else None


async def test_a_linked_trader_sees_a_new_payin_in_their_chat(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, kit: Kit
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, balance_minor=1_000_000)
    chat_id = 700_000_000 + uuid.uuid4().int % 1_000_000
    await link(api, kit, trader.headers, chat_id)
    assert (await kit.sweep()).linked == 1
    replies = await kit.wait_messages(chat_id, 1)
    assert replies[0]["text"].startswith("Linked")
    prefs = (await api.get("/api/me/notifications/preferences", headers=trader.headers)).json()
    assert prefs["telegram_linked"] is True
    assert prefs["channels"]["payin_matched"] == ["telegram"]

    created = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "1500.00"), headers=store.headers
    )
    assert created.status_code == 201, created.text
    number = created.json()["requisite"]["number"]
    await kit.sweep()
    messages = await kit.wait_messages(chat_id, 2)
    text = messages[1]["text"]
    assert messages[1]["chat"]["id"] == chat_id
    assert "1500.00" in text and created.json()["id"] in text
    assert f"****{number[-4:]}" in text and number not in text
    user_id = user_of(ctx, trader.trader_id)
    await kit.wait_delivery(user_id, "payin_matched", "telegram", "sent")

    listed = (await api.get("/api/me/notifications", headers=trader.headers)).json()
    assert [item["kind"] for item in listed["items"]] == ["payin_matched"]
    assert listed["unread"] == 1 and number not in str(listed)
    # The desk's panel (its page session is the same token, in a cookie).
    token = trader.headers["Authorization"].removeprefix("Bearer ")
    panel = await api.get("/trader/notifications", headers={"Cookie": f"{COOKIE}={token}"})
    assert panel.status_code == 200
    assert "1 new" in panel.text and f"****{number[-4:]}" in panel.text
    marked = await api.post("/api/me/notifications/read", json={}, headers=trader.headers)
    assert marked.json() == {"marked": 1}
    assert (await api.get("/api/me/notifications", headers=trader.headers)).json()["unread"] == 0


async def test_link_codes_are_single_use_and_short_lived(
    api: httpx.AsyncClient, ctx: ServiceContext, kit: Kit
) -> None:
    first = await actor(api, ctx.engine, Role.trader)
    chat_id = 710_000_000 + uuid.uuid4().int % 1_000_000
    code = await link(api, kit, first.headers, chat_id)
    await kit.sweep()
    # The same code from another chat: refused, the first link stays.
    await kit.user_writes(chat_id + 1, f"/start {code}")
    await kit.sweep()
    assert "link_code_used" in (await kit.wait_messages(chat_id + 1, 1))[0]["text"]
    assert chat_of(kit, first.user_id) == chat_id

    second = await actor(api, ctx.engine, Role.trader)
    answer = await api.post(LINK, headers=second.headers)
    with session_scope(ctx.engine) as session:  # its time runs out
        session.connection().execute(
            update(TelegramLinkCode)
            .where(col(TelegramLinkCode.user_id) == second.user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    await kit.user_writes(chat_id + 2, f"/start {answer.json()['code']}")
    await kit.user_writes(chat_id + 3, "/start not-a-code")
    await kit.sweep()
    assert "link_code_expired" in (await kit.wait_messages(chat_id + 2, 1))[0]["text"]
    assert "link_code_unknown" in (await kit.wait_messages(chat_id + 3, 1))[0]["text"]
    assert chat_of(kit, second.user_id) is None


async def test_telegram_cannot_be_chosen_before_a_chat_is_linked(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    someone = await actor(api, ctx.engine, Role.trader)
    path = "/api/me/notifications/preferences"
    before = (await api.get(path, headers=someone.headers)).json()
    refused = await api.put(
        path,
        json={"channels": {"payin_matched": ["telegram"], "balance_low": ["email"]}},
        headers=someone.headers,
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "telegram_not_linked"
    assert (await api.get(path, headers=someone.headers)).json() == before
    for body, code in [
        ({"channels": {"nothing": ["email"]}}, "unknown_event"),
        ({"channels": {"payin_matched": ["pigeon"]}}, "unknown_channel"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Mars/Base"}},
         "invalid_time_zone"),
    ]:  # fmt: skip
        answer = await api.put(path, json=body, headers=someone.headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, code)


def write(kit: Kit, user_id: uuid.UUID) -> uuid.UUID:
    key = f"test:{uuid.uuid4()}"
    payload = {"order_id": "o-1", "order_kind": "payin", "amount": "10.00", "currency": "RUB"}
    with session_scope(kit.ctx.engine) as session:
        assert notify(session, user_id, NotificationKind.dispute_opened, payload, key)
        assert not notify(session, user_id, NotificationKind.dispute_opened, payload, key)
    return user_id


async def test_a_failing_bot_api_is_retried_and_a_blocked_chat_is_not(
    api: httpx.AsyncClient, ctx: ServiceContext, kit: Kit
) -> None:
    people = [await actor(api, ctx.engine, Role.trader) for _ in range(2)]
    chats = [720_000_000 + uuid.uuid4().int % 1_000_000 + n for n in range(2)]
    for person, chat_id in zip(people, chats, strict=True):
        await link(api, kit, person.headers, chat_id)
    await kit.sweep()
    # The Bot API answers 502 twice: the delivery is retried with backoff, then sent.
    await kit.http.post("/stand-in/faults", json={"fail_next": 2, "method": "sendMessage"})
    write(kit, people[0].user_id)
    await kit.sweep()
    await kit.wait_delivery(people[0].user_id, "dispute_opened", "telegram", "sent")
    assert "dispute was opened" in (await kit.wait_messages(chats[0], 2))[1]["text"]
    # The second user blocked the bot: 403, failed at once, not retried.
    await kit.http.post(f"/stand-in/chats/{chats[1]}/block")
    write(kit, people[1].user_id)
    await kit.sweep()
    await kit.wait_delivery(people[1].user_id, "dispute_opened", "telegram", "failed")
    assert tries(kit, people[0].user_id) == 3
    assert tries(kit, people[1].user_id) == 1


def tries(kit: Kit, user_id: uuid.UUID) -> int:
    with Session(kit.ctx.engine) as session:
        return session.exec(
            select(NotificationDelivery.attempts)
            .join(Notification, col(Notification.id) == NotificationDelivery.notification_id)
            .where(Notification.user_id == user_id, Notification.kind == "dispute_opened")
        ).one()


def test_the_bot_token_never_reaches_a_log_line() -> None:
    line = "HTTP Request: POST http://127.0.0.1:8105/bot100000001:AAE-x_y12345678/sendMessage"
    assert redact_secrets(line) == "HTTP Request: POST http://127.0.0.1:8105/bot***/sendMessage"
