"""Pay-in amounts: integer minor units in the database, decimal strings in the API."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import StringConstraints

# A decimal string: digits, optionally a point and digits. No sign, exponent or spaces.
AMOUNT_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,4})?$"
AmountStr = Annotated[str, StringConstraints(pattern=AMOUNT_PATTERN, max_length=20)]


def to_minor(amount: str, minor_units: int) -> int:
    """Exact conversion; more decimals than the currency has is an error, not a rounding."""
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError("amount is not a decimal number") from exc
    scaled = value.scaleb(minor_units)
    if scaled != scaled.to_integral_value() or value <= 0:
        raise ValueError(f"amount must be positive with at most {minor_units} decimals")
    return int(scaled)


def to_decimal(amount_minor: int, minor_units: int = 2) -> str:
    value = Decimal(amount_minor).scaleb(-minor_units)
    return str(value.quantize(Decimal(1).scaleb(-minor_units)))
