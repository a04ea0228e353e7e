"""A platform setting changed or reset, the same way from the API and from the admin page:
the service validates and writes it (audited by the caller's session), this process's cache
reads it again at once, and the traders' collateral follows a collateral setting."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from sqlmodel import Session

from models.platform_settings import DATABASE_ONLY, SettingKey, SettingPublic
from processing.accounts import collateral
from processing.platform import settings as platform_settings


def change_setting(
    request: Request, session: Session, *, key: SettingKey, value: Any, actor_id: uuid.UUID
) -> SettingPublic:
    """Override one setting (422 invalid_setting out of bounds)."""
    ctx = request.app.state.ctx
    changed = platform_settings.update(
        session, ctx.settings, key=key, value=value, actor_id=actor_id
    )
    _follow(request, session, key)
    return changed


def reset_setting(request: Request, session: Session, *, key: SettingKey) -> SettingPublic:
    """Drop the override: the environment's default applies again."""
    reset = platform_settings.reset(session, request.app.state.ctx.settings, key=key)
    _follow(request, session, key)
    return reset


def _follow(request: Request, session: Session, key: SettingKey) -> None:
    request.app.state.platform_settings.invalidate()
    if key in DATABASE_ONLY:  # the traders' collateral follows at once
        collateral.settings_changed(session)
