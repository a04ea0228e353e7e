"""Platform settings: the environment's defaults, overridden by rows an administrator writes.

`PlatformSettingsCache` is what a process reads on its hot paths (every API request checks a
rate limit): the overrides are read from the database at most once per
`PLATFORM_SETTINGS_CACHE_SECONDS`, so a change reaches every process within that time (the
process that made it at once). If the database cannot be read, the last values read (or the
environment's) stay in force rather than failing the request.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.errors import Invalid
from core.settings import Settings
from models.base import utcnow
from models.platform_settings import (
    DATABASE_ONLY,
    PlatformSetting,
    PlatformValues,
    SettingKey,
    SettingPublic,
)

log = logging.getLogger(__name__)
KEYS = frozenset(key.value for key in SettingKey)


def defaults(settings: Settings) -> PlatformValues:
    """The environment's values; the database-only settings start at their own default."""
    return PlatformValues.model_validate(
        {key: getattr(settings, key) for key in SettingKey if key not in DATABASE_ONLY}
    )


def _overrides(session: Session) -> dict[str, PlatformSetting]:
    return {row.key: row for row in session.exec(select(PlatformSetting)) if row.key in KEYS}


def _applied(base: PlatformValues, rows: dict[str, PlatformSetting]) -> PlatformValues:
    """The defaults with every valid override applied (a row that no longer passes the
    bounds, say after an upgrade narrowed them, is skipped and logged)."""
    values = base
    for key, row in rows.items():
        try:
            values = PlatformValues.model_validate({**values.model_dump(), key: row.value})
        except ValidationError:
            log.warning("platform setting %s ignored: its stored value is out of bounds", key)
    return values


def effective(session: Session, settings: Settings) -> PlatformValues:
    return _applied(defaults(settings), _overrides(session))


def listing(session: Session, settings: Settings) -> list[SettingPublic]:
    base, rows = defaults(settings), _overrides(session)
    current = _applied(base, rows)
    return [_public(key, base, current, rows.get(key)) for key in SettingKey]


def _public(
    key: SettingKey, base: PlatformValues, current: PlatformValues, row: PlatformSetting | None
) -> SettingPublic:
    return SettingPublic(
        key=key.value,
        value=getattr(current, key),
        default=getattr(base, key),
        source="database" if row is not None else "environment",
        description=PlatformValues.model_fields[key].description or "",
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


def update(
    session: Session, settings: Settings, *, key: SettingKey, value: Any, actor_id: uuid.UUID
) -> SettingPublic:
    """Override one setting; a value of the wrong type or out of bounds is 422 invalid_setting."""
    base = defaults(settings)
    try:
        checked = PlatformValues.model_validate(
            {**_applied(base, _overrides(session)).model_dump(), key: value}
        )
    except ValidationError as exc:
        problems = [{"loc": list(error["loc"][1:]), "msg": error["msg"]} for error in exc.errors()]
        raise Invalid(
            f"Invalid value for {key}", code="invalid_setting", details={"errors": problems}
        ) from exc
    row = session.get(PlatformSetting, key.value) or PlatformSetting(key=key.value, value=None)
    row.value, row.updated_by, row.updated_at = getattr(checked, key), actor_id, utcnow()
    session.add(row)
    session.commit()
    return _public(key, base, checked, row)


def reset(session: Session, settings: Settings, *, key: SettingKey) -> SettingPublic:
    """Drop the override: the environment's default applies again."""
    row = session.get(PlatformSetting, key.value)
    if row is not None:
        session.delete(row)
        session.commit()
    base = defaults(settings)
    return _public(key, base, _applied(base, _overrides(session)), None)


class PlatformSettingsCache:
    """The values in force, read again from the database once they are `ttl` seconds old."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine, self._settings = engine, settings
        self._ttl = settings.platform_settings_cache_seconds
        self._values = defaults(settings)
        self._read_at: float | None = None

    def _read(self) -> PlatformValues:
        with Session(self._engine) as session:
            return effective(session, self._settings)

    async def current(self) -> PlatformValues:
        if not self._fresh():
            # Two requests may both read at expiry; the reads are equal and cheap.
            try:
                self._values = await asyncio.to_thread(self._read)
            except Exception:  # the database is down: keep what is known
                log.warning("platform settings unreadable; keeping the last values")
            self._read_at = time.monotonic()
        return self._values

    def _fresh(self) -> bool:
        return self._read_at is not None and time.monotonic() - self._read_at < self._ttl

    def invalidate(self) -> None:
        self._read_at = None
