"""Explained figures and JSON conversion for stored snapshots.

Every number the dashboard shows travels as a `Figure`: the value, its unit, the inputs it
was computed from, the period it covers and a sentence saying how — so a user or support
can explain any number without re-running the computation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

# Sources a figure's value may come from (the spec asks that each number name its source).
SOURCE_AGREEMENT = "agreement"
SOURCE_PRODUCT_LIST = "product_list"
SOURCE_ACCOUNT_BALANCE = "account_balance"
SOURCE_TRANSACTIONS = "transactions"
SOURCE_SETTINGS = "settings"
SOURCE_ESTIMATE = "estimate"
SOURCE_COMPUTED = "computed"


@dataclasses.dataclass(frozen=True)
class Figure:
    """One explained number. `unit` is e.g. "minor:RUB", "percent", "days", "score", "date"."""

    value: int | Decimal | str | bool | date | None
    unit: str
    inputs: Mapping[str, Any]
    period: str | None
    explanation: str
    source: str = SOURCE_COMPUTED

    def to_dict(self) -> dict[str, Any]:
        result = to_jsonable(self)
        assert isinstance(result, dict)
        return result


def money(
    value: int,
    currency: str,
    explanation: str,
    inputs: Mapping[str, Any] | None = None,
    period: str | None = None,
    source: str = SOURCE_COMPUTED,
) -> Figure:
    """A Figure holding an amount in minor units of `currency`."""
    return Figure(value, f"minor:{currency}", dict(inputs or {}), period, explanation, source)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, Decimals and dates → dicts, strings and ints; floats are refused.

    Decimals become strings so no precision is lost in the `analytics_snapshots` JSON.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    raise TypeError(f"not JSON-safe for a snapshot: {type(value).__name__}")
