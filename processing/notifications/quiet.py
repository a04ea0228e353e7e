"""Quiet hours: a pure function of the time now and the user's window, so it is tested on
its own and the workflow only sleeps until the answer."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def zone(name: str) -> ZoneInfo:
    """The IANA zone, or ValueError (the API answers `invalid_time_zone`)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def quiet_until(now: datetime, start: time, end: time, tz: ZoneInfo) -> datetime | None:
    """When the quiet window `now` falls in ends (UTC), or None outside it. The window is
    local wall time in `tz`, `start` inclusive, `end` exclusive; start after end spans
    midnight (22:00–07:00); start equal to end is no window."""
    if start == end:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(UTC)
