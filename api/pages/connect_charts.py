"""The Connect app's charts, drawn on the server as SVG by pygal (no chart maths here).

pygal puts its configuration in an inline `<script>` for its optional tooltips; we load no
chart JavaScript, so those elements are dropped and the page gets plain SVG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pygal
from markupsafe import Markup
from pygal.etree import etree
from pygal.style import Style

from api.pages.connect_screen import HEALTH_PARTS, category_name, day_text
from models.dashboard import HealthPublic
from models.insights import ProductPublic

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1c2430",
    foreground_strong="#1c2430",
    foreground_subtle="#667085",
    colors=("#2457c5", "#137333", "#9a6700", "#b3261e", "#6b4fbb", "#0f7b8a", "#667085"),
    font_family="system-ui, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=14,
    value_font_size=14,
    title_font_size=16,
)
COMMON: dict[str, Any] = {
    "style": STYLE,
    "js": [],
    "disable_xml_declaration": True,
    "margin": 8,
}
# Card-sized charts keep their labels readable at a card's width on a phone and a desktop.
CARD: dict[str, Any] = {**COMMON, "width": 420, "height": 320}
WIDE: dict[str, Any] = {**COMMON, "width": 720, "height": 360}
# Months of spending the chart shows (the newest last).
SPENDING_MONTHS = 4


def _svg(chart: Any, label: str) -> Markup:
    """The chart's SVG without pygal's scripts, labelled for screen readers."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if child.tag == "script":
                parent.remove(child)
    tree.set("role", "img")
    tree.set("aria-label", label)
    # Serialised by the XML library, which escapes every text and attribute value.
    return Markup(etree.tostring(tree, encoding="unicode"))  # noqa: S704


def health_gauge(health: HealthPublic) -> Markup | None:
    """The score and its five parts, each a gauge out of 100 (parts without data left out)."""
    if health.score is None:
        return None
    gauge = pygal.SolidGauge(
        inner_radius=0.72,
        half_pie=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        truncate_legend=-1,
        **{**CARD, "height": 420},
    )
    gauge.value_formatter = lambda value: f"{value:.0f}"
    gauge.add("Overall", [{"value": health.score, "max_value": 100}])
    for part in health.components:
        if part.score is not None:
            name = HEALTH_PARTS.get(part.name, part.name)
            gauge.add(name, [{"value": part.score, "max_value": 100}])
    return _svg(gauge, f"Financial health {health.score} out of 100, with its parts")


def forecast_line(days: Sequence[Mapping[str, Any]], currency: str) -> Markup | None:
    """The balance day by day for the next 30 days, the lowest day marked."""
    if not days:
        return None
    balances = [int(day["balance_minor"]) / 100 for day in days]
    lowest = balances.index(min(balances))
    line = pygal.Line(
        show_legend=True,
        x_label_rotation=0,
        show_minor_x_labels=False,
        x_labels_major_every=10,
        truncate_label=-1,
        legend_at_bottom=True,
        truncate_legend=-1,
        **CARD,
    )
    line.value_formatter = lambda value: f"{value:,.0f}".replace(",", " ")
    line.x_labels = [f"{date.fromisoformat(day['day']):%-d %b}" for day in days]
    line.add("Balance", balances, show_dots=False, stroke_style={"width": 3})
    marked: list[float | None] = [None] * len(balances)
    marked[lowest] = balances[lowest]
    low_day = day_text(days[lowest]["day"])
    line.add(f"Lowest: {low_day}", marked, dots_size=7)
    return _svg(line, f"Balance over the next 30 days; lowest on {low_day}")


def debts_bar(products: Sequence[ProductPublic]) -> Markup | None:
    """Per loan: what is paid off and what is left (of the amount borrowed)."""
    loans = [p for p in products if p.loan is not None and p.amount is not None]
    if not loans:
        return None
    bar = pygal.HorizontalStackedBar(
        legend_at_bottom=True, truncate_label=-1, show_y_labels=True, **{**CARD, "height": 260}
    )
    bar.value_formatter = lambda value: f"{value:,.0f}".replace(",", " ")
    bar.x_labels = [p.product_name or "Loan" for p in loans]
    left = [_units(p.loan.outstanding.value if p.loan else None) for p in loans]
    borrowed = [_units(p.amount.amount_minor if p.amount else None) for p in loans]
    bar.add("Paid", [max(total - owed, 0) for total, owed in zip(borrowed, left, strict=True)])
    bar.add("Left", left)
    return _svg(bar, "Loans: paid off and left to pay")


def _units(minor: object) -> float:
    return minor / 100 if isinstance(minor, int) else 0.0


def spending_by_month(table: Mapping[str, Mapping[str, int]]) -> Markup | None:
    """Spending per category in each of the last months, stacked."""
    months = sorted(table)[-SPENDING_MONTHS:]
    categories = sorted({c for m in months for c in table[m] if c != "own_transfer"})
    if not categories:
        return None
    bar = pygal.StackedBar(legend_at_bottom=True, truncate_legend=-1, truncate_label=-1, **WIDE)
    bar.value_formatter = lambda value: f"{value:,.0f}".replace(",", " ")
    bar.x_labels = [f"{date.fromisoformat(m + '-01'):%b %Y}" for m in months]
    for category in categories:
        bar.add(category_name(category), [table[m].get(category, 0) / 100 for m in months])
    return _svg(bar, "Spending by category over the last months")
