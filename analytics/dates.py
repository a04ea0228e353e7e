"""Calendar arithmetic shared by the analytics modules (pure, no wall-clock time)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, tzinfo


def local_date(moment: datetime, tz: tzinfo | None) -> date:
    """The calendar date of `moment` in the snapshot's timezone (that of `as_of`)."""
    return moment.astimezone(tz).date() if tz is not None else moment.date()


def month_key(day: date) -> str:
    """Calendar month as "YYYY-MM"; string keys keep snapshots JSON-friendly."""
    return f"{day.year:04d}-{day.month:02d}"


def day_in_month(year: int, month: int, day: int) -> date:
    """`day` of the given month, clamped to its last day (31 → 28/29/30)."""
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(max(day, 1), last))


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    """(year, month) moved by `delta` calendar months."""
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def add_months(day: date, delta: int, day_of_month: int | None = None) -> date:
    """`day` moved by `delta` months, keeping `day_of_month` (default: day's own) clamped."""
    year, month = shift_month(day.year, day.month, delta)
    return day_in_month(year, month, day_of_month or day.day)


def next_on_day(day_of_month: int, start: date) -> date:
    """First date on or after `start` that falls on `day_of_month` (clamped per month)."""
    candidate = day_in_month(start.year, start.month, day_of_month)
    if candidate >= start:
        return candidate
    return add_months(candidate, 1, day_of_month)


def full_months_before(today: date, count: int) -> list[str]:
    """The `count` full calendar months before today's month, oldest first."""
    keys = []
    for back in range(count, 0, -1):
        year, month = shift_month(today.year, today.month, -back)
        keys.append(f"{year:04d}-{month:02d}")
    return keys


def monthly_dates(
    first: date, before: date, day_of_month: int, last: date | None = None
) -> list[date]:
    """Dates on `day_of_month` from `first` (inclusive) until `before` (exclusive) or `last`."""
    dates: list[date] = []
    current = first
    while current < before and (last is None or current <= last):
        dates.append(current)
        current = add_months(current, 1, day_of_month)
    return dates
