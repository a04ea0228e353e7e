"""Personal-finance analytics for the open-banking side: pure and standard-library only.

Temporal workflows and activities both import this package, so nothing here touches the
database, the network or the clock. Money is integer minor units; every rounding is
ROUND_HALF_UP (see `analytics.money`). Start at `compute_snapshot`.
"""

from analytics.categories import (
    DEFAULT_RULES,
    CategoryRule,
    categorise,
    categorise_all,
    detect_own_transfers,
)
from analytics.debt import DebtSummary, LoanView, annuity_payment_minor, summarise_debt
from analytics.dsti import dsti_band, dsti_percent
from analytics.figures import Figure, to_jsonable
from analytics.forecast import Forecast, ForecastDay, forecast_cashflow
from analytics.health import HealthComponent, HealthScore, health_score, tier_for
from analytics.income import PeriodSummary, RegularIncome, regular_income, summary
from analytics.inputs import (
    AccountInput,
    AnalyticsSettings,
    DepositInput,
    LoanInput,
    TransactionInput,
    deduplicate,
)
from analytics.recurring import RecurringBill, detect_recurring
from analytics.results import CurrencySnapshot, Snapshot
from analytics.safe_to_spend import SafeToSpend, compute_safe_to_spend
from analytics.snapshot import compute_snapshot

__all__ = [
    "DEFAULT_RULES",
    "AccountInput",
    "AnalyticsSettings",
    "CategoryRule",
    "CurrencySnapshot",
    "DebtSummary",
    "DepositInput",
    "Figure",
    "Forecast",
    "ForecastDay",
    "HealthComponent",
    "HealthScore",
    "LoanInput",
    "LoanView",
    "PeriodSummary",
    "RecurringBill",
    "RegularIncome",
    "SafeToSpend",
    "Snapshot",
    "TransactionInput",
    "annuity_payment_minor",
    "categorise",
    "categorise_all",
    "compute_safe_to_spend",
    "compute_snapshot",
    "deduplicate",
    "detect_own_transfers",
    "detect_recurring",
    "dsti_band",
    "dsti_percent",
    "forecast_cashflow",
    "health_score",
    "regular_income",
    "summarise_debt",
    "summary",
    "tier_for",
    "to_jsonable",
]
