"""API input types whose JSON Schema says exactly what the server accepts: a client (or a
fuzzer) that follows `/openapi.json` is never refused for something the document allows, and
never accepted with something it forbids."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from core.addresses import canonical_ip


def _address(value: str) -> str:
    try:
        return canonical_ip(value)
    except ValueError as exc:
        raise ValueError("not an IPv4 or IPv6 address") from exc


# Stored, compared and counted in one form (`core.addresses`): `::ffff:203.0.113.7` is
# 203.0.113.7. The standard formats, not pydantic's own `ipvanyaddress`.
IpAddress = Annotated[
    str,
    AfterValidator(_address),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]}
    ),
]
