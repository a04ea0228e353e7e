"""API input types whose JSON Schema says exactly what the server accepts: a client (or a
fuzzer) that follows `/openapi.json` is never refused for something the document allows, and
never accepted with something it forbids."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Strict, WithJsonSchema

from core.addresses import canonical_ip


def canonical_address(value: str) -> str:
    try:
        return canonical_ip(value)
    except ValueError as exc:
        raise ValueError("not an IPv4 or IPv6 address") from exc


# Stored, compared and counted in one form (`core.addresses`): `::ffff:203.0.113.7` is
# 203.0.113.7. The standard formats, not pydantic's own `ipvanyaddress`.
IP_FORMATS: dict[str, Any] = {
    "anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]
}
IpAddress = Annotated[str, AfterValidator(canonical_address), WithJsonSchema(IP_FORMATS)]


def _whole_number(value: object) -> object:
    # JSON Schema's integer: 2.0 is the integer 2; a bool or a numeric string is no number.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer as the document describes one: 5 or 5.0, never true or "5" (pydantic's lax int
# takes both, its strict int refuses 5.0).
JsonInt = Annotated[int, Strict(), BeforeValidator(_whole_number)]


# Pieces of a cross-field rule in the document (`json_schema_extra`): a field that must be
# given (not null), or left out (or null).
GIVEN: dict[str, Any] = {"not": {"type": "null"}}
ABSENT: dict[str, Any] = {"type": "null"}


def when(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    """One branch of a `oneOf` / `anyOf`: these fields given, those as described."""
    return {"required": required, "properties": {name: GIVEN for name in required} | properties}


# RFC 3339: a date-time with its offset, or a date (midnight UTC) as a date input sends it.
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2}))?"
)


def _moment(value: object) -> datetime:
    # pydantic's own datetime also takes "0.5" (a Unix time) or no offset: not what we say.
    if not isinstance(value, str) or not _MOMENT.fullmatch(value):
        raise ValueError("not an RFC 3339 date-time (with its offset) or date")
    moment = datetime.fromisoformat(value.upper())  # refuses days a month lacks
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # an offset past year 9999 or before year 1: as far as time goes
        return (datetime.max if moment.year > 1 else datetime.min).replace(tzinfo=UTC)


Moment = Annotated[
    datetime,
    BeforeValidator(_moment),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
    ),
]


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(value: object) -> date:
    # pydantic's own date also takes "0" (a Unix time): not what the schema says.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("not a date (YYYY-MM-DD)")
    return date.fromisoformat(value)  # refuses days a month lacks


# A calendar date, written as RFC 3339's full-date only.
Day = Annotated[date, BeforeValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]
