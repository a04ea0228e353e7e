"""My notifications (`/api/me/notifications`): the web list and marking read, my choices of
channels per event and quiet hours, and linking a Telegram chat with a one-time code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, SessionDep, SettingsDep
from models.inputs import Moment
from models.notifications import (
    MarkRead,
    NotificationPage,
    NotificationPreferences,
    NotificationPreferencesPublic,
    TelegramLinkPublic,
)
from processing.notifications import inbox, linking, preferences

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=100)]


@router.get("/notifications", response_model=NotificationPage)
def my_notifications(
    session: SessionDep, user: CurrentUser, before: Moment | None = None, limit: Limit = 20
) -> NotificationPage:
    """My notifications, newest first; pass `next_before` as `before` for older ones."""
    return inbox.page(session, user.id, before, limit)


@router.post("/notifications/read")
def mark_read(body: MarkRead, session: SessionDep, user: CurrentUser) -> dict[str, int]:
    """Mark these (or, without `ids`, all) of my notifications read."""
    return {"marked": inbox.mark_read(session, user.id, body)}


@router.get("/notifications/preferences", response_model=NotificationPreferencesPublic)
def my_preferences(session: SessionDep, user: CurrentUser) -> NotificationPreferencesPublic:
    """My channels per event, quiet hours and whether a Telegram chat is linked."""
    return preferences.read(session, user.id)


@router.put(
    "/notifications/preferences",
    response_model=NotificationPreferencesPublic,
    responses={
        409: {"description": "`telegram_not_linked`: link a chat before choosing Telegram"},
        422: {"description": "`unknown_event`, `unknown_channel`, `invalid_time_zone`"},
    },
)
def set_preferences(
    body: NotificationPreferences, session: SessionDep, user: CurrentUser
) -> NotificationPreferencesPublic:
    """Choose channels per event (events left out keep theirs) and quiet hours (null: none);
    urgent events ignore quiet hours."""
    return preferences.update(session, user.id, body)


@router.post("/notifications/telegram/link", status_code=201, response_model=TelegramLinkPublic)
def telegram_link(
    session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> TelegramLinkPublic:
    """A one-time code to send the bot (`/start <code>`), short-lived; a new code voids the
    previous one. The chat is linked within seconds of the bot receiving it."""
    code = linking.new_code(session, user.id, settings.telegram_link_code_seconds)
    session.commit()
    code.bot_username = settings.telegram_bot_username
    return code
