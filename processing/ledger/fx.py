"""Conversions between an order's currency and a party's settlement currency, at the rate
the order fixed: integers in minor units in and out, exact decimals in between, half-up.

A converted leg is never one leg with two currencies: the party's leg in its settlement
currency is mirrored by the platform's FX account in that currency, and the leg it replaces
goes to the FX account in the order's currency, so each currency of the posting sums to 0.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from sqlmodel import Session

from models.traders import Currency
from processing.ledger.postings import fx_account

# A currency's minor units never change (reference data, seeded by migrations): once read,
# a process keeps them.
_MINOR_UNITS: dict[str, int] = {}


def minor_units(session: Session, currency: str) -> int:
    units = _MINOR_UNITS.get(currency)
    if units is None:
        row = session.get(Currency, currency)
        if row is None:
            return 2
        units = _MINOR_UNITS[currency] = row.minor_units
    return units


def convert(amount_minor: int, from_units: int, to_units: int, rate: Decimal) -> int:
    """`amount_minor` of a currency with `from_units` decimals, at `rate` (its units per one
    unit of the target), in minor units of the target: rounded half-up, sign kept."""
    with localcontext() as context:
        context.prec = 50
        value = Decimal(abs(amount_minor)).scaleb(to_units - from_units) / rate
        rounded = int(value.to_integral_value(ROUND_HALF_UP))
    return rounded if amount_minor >= 0 else -rounded


@dataclass(frozen=True)
class Conversion:
    """One party's legs: from the order's currency into `account_id`'s settlement currency."""

    account_id: uuid.UUID
    source: str
    target: str
    rate: Decimal


def converted_legs(
    session: Session, conversion: Conversion, amount_minor: int
) -> list[tuple[uuid.UUID, int]]:
    """The party's leg in its settlement currency and the FX accounts' two sides."""
    source_units = minor_units(session, conversion.source)
    target_units = minor_units(session, conversion.target)
    converted = convert(amount_minor, source_units, target_units, conversion.rate)
    fx_source = fx_account(session, conversion.source, conversion.target).id
    fx_target = fx_account(session, conversion.target, conversion.source).id
    return [
        (conversion.account_id, converted),
        (fx_target, -converted),
        (fx_source, amount_minor),
    ]
