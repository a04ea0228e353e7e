"""Platform settings an administrator changes at run time (every change is audited).

Each setting is its own resource, `/api/admin/settings/<key>`, so that the document states
the type and bounds of each value (one `{key}` path could not tie the body to the key).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from api import setting_changes
from api.deps import ContextDep, CurrentStaff, SessionDep, SettingsManager
from models.platform_settings import (
    SETTING_BODIES,
    SettingKey,
    SettingPublic,
    SettingUpdate,
)
from processing.platform import settings as platform_settings

router = APIRouter()


@router.get("/settings", response_model=list[SettingPublic])
def list_settings(session: SessionDep, ctx: ContextDep, _: CurrentStaff) -> list[SettingPublic]:
    """Every editable setting: the value in force, the environment's default, and who
    changed it when it is overridden."""
    return platform_settings.listing(session, ctx.settings)


def _update(key: SettingKey) -> Callable[..., SettingPublic]:
    def update_setting(
        body: SettingUpdate,
        request: Request,
        session: SessionDep,
        admin: SettingsManager,
    ) -> SettingPublic:
        """Override the setting. Other API processes pick the change up within
        `PLATFORM_SETTINGS_CACHE_SECONDS`; fees and deadlines apply to stores created after
        it, the retry ladder to orders created after it."""
        return setting_changes.change_setting(
            request, session, key=key, value=body.value, actor_id=admin.id
        )

    # The body's model is this setting's own (built at import), so FastAPI validates and
    # documents exactly its value: set it in the signature FastAPI reads.
    signature = inspect.signature(update_setting, eval_str=True)
    parameters = [
        p.replace(annotation=SETTING_BODIES[key]) if p.name == "body" else p
        for p in signature.parameters.values()
    ]
    update_setting.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return update_setting


def _reset(key: SettingKey) -> Callable[..., SettingPublic]:
    def reset_setting(request: Request, session: SessionDep, _: SettingsManager) -> SettingPublic:
        """Remove the override: the environment's default applies again."""
        return setting_changes.reset_setting(request, session, key=key)

    return reset_setting


def _route(key: SettingKey, method: str, endpoint: Callable[..., Any]) -> None:
    router.add_api_route(
        f"/settings/{key.value}",
        endpoint,
        methods=[method],
        response_model=SettingPublic,
        name=f"{method.lower()}_{key.value}",
        summary=f"{'Override' if method == 'PUT' else 'Reset'} {key.value}",
    )


for setting in SettingKey:
    _route(setting, "PUT", _update(setting))
    _route(setting, "DELETE", _reset(setting))
