"""The computed snapshot's shape: one section per currency, plus the health score.

Kept apart from `analytics.snapshot` (which computes it) so the pieces that read a section —
the health inputs — can import the type without importing the computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analytics.debt import DebtSummary
from analytics.figures import Figure, to_jsonable
from analytics.forecast import Forecast
from analytics.health import HealthScore
from analytics.income import PeriodSummary
from analytics.recurring import RecurringBill
from analytics.safe_to_spend import SafeToSpend

SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class CurrencySnapshot:
    currency: str
    liquid_available: Figure
    deposits: Figure
    monthly_income: dict[str, int]
    regular_income: Figure
    next_income_date: Figure
    spending_by_category_month: dict[str, dict[str, int]]
    spending_by_day: dict[str, int]
    average_monthly_spending: Figure
    summaries: dict[str, PeriodSummary]
    recurring_bills: tuple[RecurringBill, ...]
    debt: DebtSummary
    safe_to_spend: SafeToSpend
    forecast: Forecast


@dataclass(frozen=True)
class Snapshot:
    as_of: datetime
    primary_currency: str
    currencies: dict[str, CurrencySnapshot]
    health: HealthScore
    own_transfers: int
    version: int = SNAPSHOT_VERSION

    @property
    def primary(self) -> CurrencySnapshot:
        return self.currencies[self.primary_currency]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ints, strings, bools and None; Decimals as strings, dates ISO."""
        result = to_jsonable(self)
        assert isinstance(result, dict)
        return result
