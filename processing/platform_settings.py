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

from core.errors import Invalid, NotFound
from core.settings import Settings
from models.base import utcnow
from models.platform_settings import DESCRIPTIONS, PlatformSetting, PlatformValues, SettingPublic

log = logging.getLogger(__name__)
KEYS = tuple(PlatformValues.model_fields)


def defaults(settings: Settings) -> PlatformValues:
    return PlatformValues.model_validate({key: getattr(settings, key) for key in KEYS})


def _overrides(session: Session) -> dict[str, PlatformSetting]:
    rows = session.exec(select(PlatformSetting)).all()
    return {row.key: row for row in rows if row.key in KEYS}


def effective(session: Session, settings: Settings) -> PlatformValues:
    """The defaults with every valid override applied (a row that no longer passes the
    bounds, say after an upgrade narrowed them, is skipped and logged)."""
    values = defaults(settings)
    for key, row in _overrides(session).items():
        try:
            values = PlatformValues.model_validate({**values.model_dump(), key: row.value})
        except ValidationError:
            log.warning("platform setting %s ignored: its stored value is out of bounds", key)
    return values


def listing(session: Session, settings: Settings) -> list[SettingPublic]:
    base, current, rows = defaults(settings), effective(session, settings), _overrides(session)
    return [_public(key, base, current, rows.get(key)) for key in KEYS]


def _public(
    key: str, base: PlatformValues, current: PlatformValues, row: PlatformSetting | None
) -> SettingPublic:
    return SettingPublic(
        key=key,
        value=getattr(current, key),
        default=getattr(base, key),
        source="database" if row is not None else "environment",
        description=DESCRIPTIONS[key],
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


def _known(key: str) -> None:
    if key not in KEYS:
        raise NotFound(f"No setting named {key!r}", code="unknown_setting", details={"keys": KEYS})


def update(
    session: Session, settings: Settings, *, key: str, value: Any, actor_id: uuid.UUID
) -> SettingPublic:
    """Override one setting; a value of the wrong type or out of bounds is 422 invalid_setting."""
    _known(key)
    try:
        checked = PlatformValues.model_validate(
            {**effective(session, settings).model_dump(), key: value}
        )
    except ValidationError as exc:
        problems = [{"loc": list(error["loc"][1:]), "msg": error["msg"]} for error in exc.errors()]
        raise Invalid(
            f"Invalid value for {key}", code="invalid_setting", details={"errors": problems}
        ) from exc
    row = session.get(PlatformSetting, key) or PlatformSetting(key=key, value=None)
    row.value, row.updated_by, row.updated_at = getattr(checked, key), actor_id, utcnow()
    session.add(row)
    session.commit()
    return _public(key, defaults(settings), checked, row)


def reset(session: Session, settings: Settings, *, key: str) -> SettingPublic:
    """Drop the override: the environment's default applies again."""
    _known(key)
    row = session.get(PlatformSetting, key)
    if row is not None:
        session.delete(row)
        session.commit()
    base = defaults(settings)
    return _public(key, base, effective(session, settings), None)


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
