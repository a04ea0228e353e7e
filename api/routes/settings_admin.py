"""Platform settings an administrator changes at run time (every change is audited)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import ContextDep, CurrentAdmin, CurrentStaff, SessionDep
from models.platform_settings import SettingKey, SettingPublic, SettingUpdate
from processing import platform_settings

router = APIRouter()


@router.get("/settings", response_model=list[SettingPublic])
def list_settings(session: SessionDep, ctx: ContextDep, _: CurrentStaff) -> list[SettingPublic]:
    """Every editable setting: the value in force, the environment's default, and who
    changed it when it is overridden."""
    return platform_settings.listing(session, ctx.settings)


@router.put("/settings/{key}", response_model=SettingPublic)
def update_setting(
    key: SettingKey,
    body: SettingUpdate,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    admin: CurrentAdmin,
) -> SettingPublic:
    """Override a setting. Other API processes pick the change up within
    `PLATFORM_SETTINGS_CACHE_SECONDS`; fees and deadlines apply to stores created after it,
    the retry ladder to orders created after it."""
    changed = platform_settings.update(
        session, ctx.settings, key=key, value=body.value, actor_id=admin.id
    )
    request.app.state.platform_settings.invalidate()
    return changed


@router.delete("/settings/{key}", response_model=SettingPublic)
def reset_setting(
    key: SettingKey, request: Request, session: SessionDep, ctx: ContextDep, _: CurrentAdmin
) -> SettingPublic:
    """Remove the override: the environment's default applies again."""
    reset = platform_settings.reset(session, ctx.settings, key=key)
    request.app.state.platform_settings.invalidate()
    return reset
