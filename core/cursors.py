"""Keyset cursors: the last row's sort key (its time and id), so pages never skip or repeat
rows and a deep page costs what the first one does."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from core.errors import Invalid
from models.base import as_utc
from models.cabinet import CURSOR_PATTERN

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    return f"{(as_utc(at) - EPOCH) // MICROSECOND}-{row_id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Any cursor of the documented shape is a position; anything else is refused."""
    if not re.fullmatch(CURSOR_PATTERN.strip("^$"), cursor):
        raise Invalid("cursor is not one this API gave", code="invalid_cursor")
    micros, row_id = cursor.split("-")
    return EPOCH + int(micros) * MICROSECOND, uuid.UUID(hex=row_id)
