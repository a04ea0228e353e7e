"""Notifications demo for `make run`: the demo traders' Telegram chats linked to the bundled
Bot API stand-in, so a pay-in matched to either shows up in its messages. Idempotent: a
trader who already has notification settings (a chat of their own, choices) is left alone."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.settings import Settings
from models.notifications import NotificationSettings

# The stand-in's demo chats (any id works there; these are easy to spot).
DEMO_CHATS = {"trader1": 424201, "trader2": 424202}


def standin_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.telegram_standin_port}"


def uses_standin(settings: Settings) -> bool:
    return settings.telegram_api_base_url.rstrip("/") == standin_url(settings)


def seed_notifications(engine: Engine, user_ids: dict[str, uuid.UUID]) -> dict[str, int]:
    with Session(engine) as session:
        for key, chat_id in DEMO_CHATS.items():
            if session.get(NotificationSettings, user_ids[key]) is None:
                session.add(NotificationSettings(user_id=user_ids[key], telegram_chat_id=chat_id))
        session.commit()
    return dict(DEMO_CHATS)


def notification_lines(settings: Settings) -> list[str]:
    if not uses_standin(settings):
        return []
    url = standin_url(settings)
    return [
        "",
        f"Notifications: trader1 and trader2 have Telegram chats {DEMO_CHATS['trader1']} and"
        f" {DEMO_CHATS['trader2']} linked to the Bot API stand-in ({url}).",
        '  1. POST /api/gateway/payins {"amount": "1500.00", "currency": "RUB",'
        ' "merchant_order_id": "notify-1"}  (header X-API-Key: the store key above)',
        f'  2. within ~5 s: GET {url}/stand-in/messages  → "New pay-in 1500.00 RUB matched to'
        " your requisite ****…\" in the matched trader's chat (also on the trader desk;"
        " a pay-in matched to the bridge trader, who linked no chat, shows on its desk only:"
        " send another)",
        f"  Link another user: POST /api/me/notifications/telegram/link, then POST {url}"
        '/stand-in/updates {"chat_id": 5550001, "text": "/start <code>"}',
    ]
