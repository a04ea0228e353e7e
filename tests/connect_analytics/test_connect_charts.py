"""The Connect app's charts: pygal SVG with the points a person looks for, and no scripts."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from api.pages.connect_charts import debts_bar, forecast_line, health_gauge, spending_by_month
from models.dashboard import HealthComponentPublic, HealthPublic
from models.insights import FigurePublic, LoanPublic, ProductPublic, RatePublic, SourcedMoneyPublic


def _parsed(svg: str) -> ElementTree.Element:
    assert "<script" not in svg
    return ElementTree.fromstring(svg)  # noqa: S314 - our own chart, built in the test


def _texts(svg: str) -> list[str]:
    return [t.strip() for t in _parsed(svg).itertext() if t.strip()]


def test_the_health_gauge_shows_the_score_and_each_part_with_data() -> None:
    parts = [
        HealthComponentPublic(name="bills_on_time", score=100, inputs={}, explanation=""),
        HealthComponentPublic(name="savings_trend", score=None, inputs={}, explanation=""),
        HealthComponentPublic(name="manageable_debt", score=60, inputs={}, explanation=""),
    ]
    health = HealthPublic(score=72, tier="Coping", confidence="low", available=2, components=parts)
    svg = health_gauge(health)
    assert svg is not None
    texts = _texts(svg)
    assert {"Overall", "Bills paid on time", "Manageable debt"} <= set(texts)
    assert "Savings growing" not in texts  # no data: left out, not drawn as 0
    assert _parsed(svg).get("aria-label") == "Financial health 72 out of 100, with its parts"
    empty = HealthPublic(score=None, tier="", confidence="", available=0, components=[])
    assert health_gauge(empty) is None


def test_the_forecast_marks_its_lowest_day() -> None:
    balances = [50_000_00, 42_000_00, 31_000_00, 36_000_00, 60_000_00]
    days = [
        {"day": f"2026-12-{n:02d}", "balance_minor": b} for n, b in enumerate(balances, start=8)
    ]
    svg = forecast_line(days, "RUB")
    assert svg is not None
    assert "Lowest: 10 December 2026" in _texts(svg)
    assert forecast_line([], "RUB") is None


def _figure(value: int | None) -> FigurePublic:
    return FigurePublic(
        value=value, unit="minor:RUB", inputs={}, period=None, explanation="", source=""
    )


def _loan(name: str, borrowed: int, left: int) -> ProductPublic:
    loan = LoanPublic(
        agreement_id="agr-1",
        bank_code="vbank",
        product_name=name,
        currency="RUB",
        outstanding=_figure(left),
        annual_rate=_figure(None),
        remaining_months=_figure(None),
        monthly_payment=_figure(None),
        next_due=_figure(None),
        end_date=None,
        days_overdue=0,
    )
    return ProductPublic(
        agreement_id="agr-1",
        bank_code="vbank",
        product_id=None,
        product_name=name,
        product_type="loan",
        status="active",
        start_date=None,
        end_date=None,
        account_number_masked=None,
        linked_account_id=None,
        amount=SourcedMoneyPublic(
            amount_minor=borrowed, amount=f"{borrowed / 100:.2f}", currency="RUB", source=""
        ),
        balance=None,
        interest_rate=RatePublic(value=None, unit="percent", source=None),
        loan=loan,
    )


def test_each_loan_is_a_bar_of_paid_and_left() -> None:
    svg = debts_bar([_loan("Car loan", 500_000_00, 200_000_00)])
    assert svg is not None
    texts = _texts(svg)
    assert {"Car loan", "Paid", "Left"} <= set(texts)
    # Paid 300 000 and left 200 000, as pygal prints the values.
    joined = " ".join(texts)
    assert re.search(r"300 000", joined) and re.search(r"200 000", joined)
    assert debts_bar([]) is None


def test_spending_by_month_names_categories_and_leaves_own_transfers_out() -> None:
    table = {
        "2026-08": {"groceries": 10_000_00},
        "2026-09": {"groceries": 12_000_00, "rent_utilities": 30_000_00},
        "2026-10": {"groceries": 9_000_00, "own_transfer": 50_000_00},
        "2026-11": {"transport": 2_000_00},
        "2026-12": {"groceries": 1_000_00},
    }
    svg = spending_by_month(table)
    assert svg is not None
    texts = _texts(svg)
    assert {"Groceries", "Rent and utilities", "Transport"} <= set(texts)
    assert "Between your accounts" not in texts
    # The last four months only.
    assert "Aug 2026" not in texts and {"Sep 2026", "Dec 2026"} <= set(texts)
    assert spending_by_month({}) is None
