"""Linking a Telegram chat: the user asks for a one-time code (only its hash is stored,
short-lived), sends `/start <code>` to the bot; reading the bot's updates links that chat
to the user. The bot answers the chat with the outcome (a stable code on refusal)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import session_scope
from models.base import as_utc, utcnow
from models.notifications import NotificationSettings, TelegramLinkCode, TelegramLinkPublic
from processing.notifications.telegram import BotApi, TelegramError

log = logging.getLogger(__name__)
LINKED = "linked"
REPLIES = {
    LINKED: "Linked: JivaPay notifications will arrive in this chat.",
    "link_code_expired": "link_code_expired: this code has expired, ask for a new one.",
    "link_code_used": "link_code_used: this code was used already, ask for a new one.",
    "link_code_unknown": "link_code_unknown: no such code, ask for a new one.",
}


def code_hash(code: str) -> str:
    return hashlib.sha256(f"telegram-link:{code}".encode()).hexdigest()


def new_code(session: Session, user_id: uuid.UUID, ttl_s: int) -> TelegramLinkPublic:
    """A fresh code; the user's earlier unused ones stop working."""
    now = utcnow()
    for old in session.exec(
        select(TelegramLinkCode).where(
            TelegramLinkCode.user_id == user_id, col(TelegramLinkCode.used_at).is_(None)
        )
    ).all():
        old.expires_at = min(as_utc(old.expires_at), now)
        session.add(old)
    code = secrets.token_urlsafe(9)
    expires = now + timedelta(seconds=ttl_s)
    session.add(TelegramLinkCode(code_hash=code_hash(code), user_id=user_id, expires_at=expires))
    return TelegramLinkPublic(code=code, command=f"/start {code}", expires_at=expires)


def settings_row(session: Session, user_id: uuid.UUID) -> NotificationSettings:
    found = session.get(NotificationSettings, user_id)
    return found or NotificationSettings(user_id=user_id)


def link(session: Session, chat_id: int, code: str, now: datetime) -> str:
    """Link the chat to the code's user; the outcome (`linked` or a refusal's code)."""
    row = session.exec(
        select(TelegramLinkCode)
        .where(TelegramLinkCode.code_hash == code_hash(code))
        .with_for_update()
    ).first()
    if row is None:
        return "link_code_unknown"
    if row.used_at is not None:
        return LINKED if row.chat_id == chat_id else "link_code_used"
    if as_utc(row.expires_at) <= now:
        return "link_code_expired"
    row.used_at, row.chat_id = now, chat_id
    settings = settings_row(session, row.user_id)
    settings.telegram_chat_id, settings.updated_at = chat_id, now
    session.add_all([row, settings])
    return LINKED


def start_code(text: str) -> str | None:
    """The code of `/start <code>` (also `/start@bot <code>`), else None."""
    parts = text.strip().split()
    if len(parts) == 2 and parts[0].split("@")[0] == "/start":
        return parts[1][:64]
    return None


def link_from_update(engine: Engine, update: dict[str, object]) -> tuple[int, str] | None:
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat, text = message.get("chat") or {}, message.get("text") or ""
    code = start_code(str(text)) if isinstance(chat, dict) else None
    if code is None or not isinstance(chat, dict) or not isinstance(chat.get("id"), int):
        return None
    with session_scope(engine) as session:
        return chat["id"], link(session, chat["id"], code, utcnow())


async def read_updates(engine: Engine, bot: BotApi, rounds: int = 20) -> int:
    """Handle every pending update; an update is confirmed (asking from past its id) only
    after it was handled, so a crash handles it again (linking is idempotent)."""
    linked, offset = 0, None
    for _ in range(rounds):
        updates = await bot.get_updates(offset)
        if not updates:
            return linked
        for update in updates:
            outcome = await asyncio.to_thread(link_from_update, engine, update)
            offset = max(offset or 0, int(update.get("update_id", 0)) + 1)
            if outcome is None:
                continue
            chat_id, result = outcome
            linked += result == LINKED
            try:
                await bot.send_message(chat_id, REPLIES[result])
            except TelegramError as exc:
                log.warning("telegram link reply not sent: %s", exc)
    return linked
