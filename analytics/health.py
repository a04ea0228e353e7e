"""Financial health score (0–100), modelled on the FinHealth Score, from bank data.

Each component is scored 0–100 by a piecewise-linear curve (documented beside it) or is
unavailable when its data is missing. The score is the average of the available
components (ROUND_HALF_UP); missing components lower the confidence, not the score.
Tiers: Healthy 80–100, Coping 40–79, Vulnerable 0–39.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

from analytics.dsti import BAND_CAUTION, BAND_CRITICAL, BAND_FINE, BAND_HIGH
from analytics.money import HUNDRED, round_minor, round_places

TIER_HEALTHY = "Healthy"
TIER_COPING = "Coping"
TIER_VULNERABLE = "Vulnerable"
TIER_UNKNOWN = "unknown"
COMPONENT_COUNT = 5

# income / spending: spending 20% over income scores 0, break-even 60, 20% under (ratio
# 1.2 and better) 100.
SPEND_CURVE = ((Decimal("0.8"), 0), (Decimal("1.0"), 60), (Decimal("1.2"), 100))
# Months of essential spending covered by liquid money: 0 → 0, 6 and more → 100.
SAVINGS_MONTHS_CURVE = ((Decimal(0), 0), (Decimal(6), 100))
# Monthly growth of savings/deposits as a share of regular income: shrinking by 5% of
# income or more → 0, flat → 40, growing by 10% of income or more → 100.
TREND_CURVE = ((Decimal("-0.05"), 0), (Decimal(0), 40), (Decimal("0.10"), 100))
# DSTI band → score; "unknown" leaves the component unavailable.
DEBT_BAND_SCORES = {BAND_FINE: 100, BAND_CAUTION: 60, BAND_HIGH: 30, BAND_CRITICAL: 0}
# Bills on time: 100 minus these penalties, not below 0.
OVERDUE_LOAN_PENALTY = 50
NEGATIVE_BALANCE_PENALTY = 25


@dataclass(frozen=True)
class HealthComponent:
    name: str
    score: int | None  # None: not enough data
    inputs: Mapping[str, Any] = field(default_factory=dict)
    explanation: str = ""


@dataclass(frozen=True)
class HealthScore:
    score: int | None
    tier: str
    confidence: str  # high | medium | low | none
    available: int
    components: tuple[HealthComponent, ...]


def interpolate(x: Decimal, points: Sequence[tuple[Decimal, int]]) -> int:
    """Piecewise-linear curve through `points`, flat beyond the ends, ROUND_HALF_UP."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in pairwise(points):
        if x <= x1:
            return round_minor(Decimal(y0) + (Decimal(y1 - y0) * (x - x0) / (x1 - x0)))
    return points[-1][1]


def spend_vs_income(income_minor: int, spending_minor: int, months: int) -> HealthComponent:
    """Spend less than income: income / spending over the last 3–6 full months."""
    inputs: dict[str, Any] = {
        "income_minor": income_minor,
        "spending_minor": spending_minor,
        "months": months,
    }
    if months == 0 or (income_minor <= 0 and spending_minor <= 0):
        return HealthComponent("spend_vs_income", None, inputs, "No full month of history.")
    if spending_minor <= 0:
        return HealthComponent("spend_vs_income", 100, inputs, "Income and no spending.")
    ratio = Decimal(max(income_minor, 0)) / Decimal(spending_minor)
    inputs["ratio"] = round_places(ratio, 2)
    score = interpolate(ratio, SPEND_CURVE)
    return HealthComponent("spend_vs_income", score, inputs, "Income ÷ spending.")


def bills_on_time(overdue_loans: int, negative_balances: int, accounts: int) -> HealthComponent:
    """Bills on time: no overdue loan payments and no negative liquid balances."""
    inputs = {"overdue_loans": overdue_loans, "negative_balances": negative_balances}
    if accounts == 0:
        return HealthComponent("bills_on_time", None, inputs, "No accounts connected.")
    penalty = OVERDUE_LOAN_PENALTY * overdue_loans + NEGATIVE_BALANCE_PENALTY * negative_balances
    text = "No overdue loans or negative balances." if penalty == 0 else "Overdue or overdrawn."
    return HealthComponent("bills_on_time", max(0, 100 - penalty), inputs, text)


def liquid_savings(liquid_minor: int, essential_monthly_minor: int) -> HealthComponent:
    """Liquid savings: liquid balance ÷ average monthly essential spending, in months."""
    inputs: dict[str, Any] = {
        "liquid_minor": liquid_minor,
        "essential_monthly_minor": essential_monthly_minor,
    }
    if essential_monthly_minor <= 0:
        return HealthComponent("liquid_savings", None, inputs, "No essential spending seen.")
    months = Decimal(liquid_minor) / Decimal(essential_monthly_minor)
    inputs["months"] = round_places(months)
    score = interpolate(months, SAVINGS_MONTHS_CURVE)
    return HealthComponent("liquid_savings", score, inputs, "Months of essentials covered.")


def savings_trend(
    net_change_minor: int, months: int, regular_income_minor: int, has_savings: bool
) -> HealthComponent:
    """Savings trend: net growth of savings and deposit balances per month vs income."""
    inputs: dict[str, Any] = {
        "net_change_minor": net_change_minor,
        "months": months,
        "regular_income_minor": regular_income_minor,
    }
    if not has_savings or months <= 0:
        return HealthComponent("savings_trend", None, inputs, "No savings or deposit account.")
    if regular_income_minor <= 0:
        score = 100 if net_change_minor > 0 else (40 if net_change_minor == 0 else 0)
        return HealthComponent("savings_trend", score, inputs, "Direction of savings only.")
    share = Decimal(net_change_minor) / months / Decimal(regular_income_minor)
    inputs["monthly_share_of_income_pct"] = round_places(share * HUNDRED)
    score = interpolate(share, TREND_CURVE)
    return HealthComponent("savings_trend", score, inputs, "Monthly savings growth ÷ income.")


def manageable_debt(band: str, dsti_pct: Decimal | None) -> HealthComponent:
    """Manageable debt, from the DSTI (ПДН) band."""
    inputs = {"band": band, "dsti_pct": dsti_pct}
    score = DEBT_BAND_SCORES.get(band)
    text = "DSTI band." if score is not None else "DSTI unknown: no regular income."
    return HealthComponent("manageable_debt", score, inputs, text)


def tier_for(score: int | None) -> str:
    if score is None:
        return TIER_UNKNOWN
    if score >= 80:
        return TIER_HEALTHY
    return TIER_COPING if score >= 40 else TIER_VULNERABLE


def health_score(components: Sequence[HealthComponent]) -> HealthScore:
    """Average of the available components; confidence from how many were available."""
    scores = [c.score for c in components if c.score is not None]
    score = round_minor(Decimal(sum(scores)) / len(scores)) if scores else None
    count = len(scores)
    if count >= COMPONENT_COUNT:
        confidence = "high"
    elif count >= 3:
        confidence = "medium"
    else:
        confidence = "low" if count else "none"
    return HealthScore(score, tier_for(score), confidence, count, tuple(components))
