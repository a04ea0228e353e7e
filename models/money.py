"""Money: integer minor units inside, decimal strings at the API edge. Never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MINOR_DIGITS = {"RUB": 2, "USD": 2, "EUR": 2, "KZT": 2, "UZS": 2, "JPY": 0}


def exponent(currency: str) -> int:
    return MINOR_DIGITS.get(currency.upper(), 2)


def format_minor(amount_minor: int | None, currency: str = "RUB") -> str | None:
    if amount_minor is None:
        return None
    digits = exponent(currency)
    return str((Decimal(amount_minor) / (10**digits)).quantize(Decimal(1).scaleb(-digits)))


def to_minor(amount: Decimal, currency: str = "RUB") -> int:
    """Bank amounts (decimal strings or Decimals) to minor units, rounding half up."""
    return int((amount * (10 ** exponent(currency))).to_integral_value(ROUND_HALF_UP))
