"""Health score components, curves, tiers at their boundaries and confidence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from analytics.dsti import BAND_CAUTION, BAND_CRITICAL, BAND_FINE, BAND_UNKNOWN
from analytics.health import (
    HealthComponent,
    bills_on_time,
    health_score,
    liquid_savings,
    manageable_debt,
    savings_trend,
    spend_vs_income,
    tier_for,
)


@pytest.mark.parametrize(
    ("score", "tier"),
    [
        (100, "Healthy"),
        (80, "Healthy"),
        (79, "Coping"),
        (40, "Coping"),
        (39, "Vulnerable"),
        (0, "Vulnerable"),
        (None, "unknown"),
    ],
)
def test_tiers_at_boundaries(score: int | None, tier: str) -> None:
    assert tier_for(score) == tier


def test_score_is_average_of_available_components_half_up() -> None:
    parts = [HealthComponent("a", 80), HealthComponent("b", 79), HealthComponent("c", None)]
    result = health_score(parts)
    # (80 + 79) / 2 = 79.5 → 80: the missing component lowers confidence, not the score
    assert (result.score, result.tier, result.available, result.confidence) == (
        80,
        "Healthy",
        2,
        "low",
    )


def test_confidence_levels() -> None:
    five = [HealthComponent(str(i), 50) for i in range(5)]
    assert health_score(five).confidence == "high"
    assert health_score(five[:3]).confidence == "medium"
    nothing = health_score([HealthComponent("a", None)])
    assert (nothing.score, nothing.tier, nothing.confidence) == (None, "unknown", "none")


def test_spend_vs_income_curve() -> None:
    assert spend_vs_income(120, 100, 6).score == 100  # ratio 1.2
    assert spend_vs_income(100, 100, 6).score == 60  # break-even
    assert spend_vs_income(110, 100, 6).score == 80  # halfway between 1.0 and 1.2
    assert spend_vs_income(90, 100, 6).score == 30  # halfway between 0.8 and 1.0
    assert spend_vs_income(50, 100, 6).score == 0
    assert spend_vs_income(100, 100, 0).score is None


def test_liquid_savings_months() -> None:
    assert liquid_savings(600_000, 100_000).score == 100  # 6 months
    assert liquid_savings(300_000, 100_000).score == 50  # 3 months
    assert liquid_savings(1_200_000, 100_000).score == 100  # capped
    assert liquid_savings(-5, 100_000).score == 0
    assert liquid_savings(300_000, 0).score is None
    assert liquid_savings(300_000, 100_000).inputs["months"] == Decimal("3.0")


def test_bills_on_time_penalties() -> None:
    assert bills_on_time(0, 0, 2).score == 100
    assert bills_on_time(0, 1, 2).score == 75
    assert bills_on_time(1, 1, 2).score == 25
    assert bills_on_time(3, 0, 2).score == 0
    assert bills_on_time(0, 0, 0).score is None


def test_savings_trend_against_income() -> None:
    # +10 000/month on a 100 000 income = 10% → 100; flat → 40; −5 000/month → 0
    assert savings_trend(3_000_000, 3, 10_000_000, True).score == 100
    assert savings_trend(0, 3, 10_000_000, True).score == 40
    assert savings_trend(1_500_000, 3, 10_000_000, True).score == 70  # 5% of income
    assert savings_trend(-1_500_000, 3, 10_000_000, True).score == 0
    assert savings_trend(100, 3, 0, True).score == 100
    assert savings_trend(100, 3, 10_000_000, False).score is None


def test_manageable_debt_from_band() -> None:
    assert manageable_debt(BAND_FINE, Decimal(0)).score == 100
    assert manageable_debt(BAND_CAUTION, Decimal(40)).score == 60
    assert manageable_debt(BAND_CRITICAL, Decimal(90)).score == 0
    assert manageable_debt(BAND_UNKNOWN, None).score is None
