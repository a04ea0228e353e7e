"""Money: integer minor units in the database, decimal strings in the API. Never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import StringConstraints

# A positive decimal string: digits (at most 15 that count), optionally a point and 1 to 8
# digits (USDT has 6), not zero. No sign, exponent or spaces. (A currency with fewer minor
# units than the decimals given refuses the amount: 422 invalid_amount; the document cannot
# know the store's.)
AMOUNT_PATTERN = r"^(?:0*[1-9][0-9]{0,14}(?:\.[0-9]{1,8})?|0+\.0{0,7}[1-9][0-9]{0,7})$"
# A currency code: ISO 4217's three letters, or a settlement currency such as USDT.
CURRENCY_PATTERN = r"^[A-Z]{3,8}$"
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


# Minor-unit digits for currencies bank data arrives in (the processing side reads its own
# currencies' digits from the reference table).
MINOR_DIGITS = {"RUB": 2, "USD": 2, "EUR": 2, "KZT": 2, "UZS": 2, "JPY": 0}


def exponent(currency: str) -> int:
    return MINOR_DIGITS.get(currency.upper(), 2)


def format_minor(amount_minor: int | None, currency: str = "RUB") -> str | None:
    return None if amount_minor is None else to_decimal(amount_minor, exponent(currency))


def rounded_minor(amount: Decimal, currency: str = "RUB") -> int:
    """Bank amounts (any precision) to minor units, rounding half up."""
    return int((amount * (10 ** exponent(currency))).to_integral_value(ROUND_HALF_UP))
