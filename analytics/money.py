"""Money helpers: integer minor units, explicit rounding, exact medians.

Every conversion from an exact Decimal to minor units goes through `round_minor`, which
uses ROUND_HALF_UP (halves go away from zero: 0.5 → 1, −0.5 → −1), the rounding Russian
banks print on statements. Nothing here uses floats.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

ONE = Decimal(1)
HUNDRED = Decimal(100)


def round_minor(value: Decimal) -> int:
    """Exact amount → whole minor units, ROUND_HALF_UP."""
    return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def round_places(value: Decimal, places: int = 1) -> Decimal:
    """Round a ratio or percentage for display, ROUND_HALF_UP."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent_of(amount_minor: int, pct: Decimal) -> int:
    """`pct` percent of an amount in minor units, rounded ROUND_HALF_UP."""
    return round_minor(Decimal(amount_minor) * pct / HUNDRED)


def divide_minor(amount_minor: int, divisor: int) -> int:
    """Amount split evenly over `divisor` parts (days, months), ROUND_HALF_UP."""
    return round_minor(Decimal(amount_minor) / Decimal(max(divisor, 1)))


def median_minor(values: Iterable[int]) -> int:
    """Median of minor amounts; an even count averages the middle two, ROUND_HALF_UP."""
    ordered = sorted(values)
    if not ordered:
        return 0
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return round_minor(Decimal(ordered[middle - 1] + ordered[middle]) / 2)


def format_minor(amount_minor: int, currency: str) -> str:
    """Human text for messages: 4707347 → "47 073.47 RUB" (thin groups, two decimals)."""
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(amount_minor), 100)
    grouped = f"{units:,}".replace(",", " ")
    return f"{sign}{grouped}.{cents:02d} {currency}"
