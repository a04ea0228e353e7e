"""Debt-service-to-income (the Bank of Russia's ПДН) and its bands.

DSTI = Σ monthly debt payments / regular monthly income, in percent. Bands follow the
spec: < 30% fine, 30–50% caution, > 50% high (where Russian lenders must warn the
borrower), > 80% critical. Bands are decided on the exact ratio, so 50.00% is caution and
50.01% is high; the displayed percent is rounded to one decimal, ROUND_HALF_UP.
No payments is 0% and fine whatever the income; payments with no income are "unknown".
"""

from __future__ import annotations

from decimal import Decimal

from analytics.figures import Figure
from analytics.money import HUNDRED, round_places

BAND_FINE = "fine"
BAND_CAUTION = "caution"
BAND_HIGH = "high"
BAND_CRITICAL = "critical"
BAND_UNKNOWN = "unknown"


def dsti_band(payments_minor: int, income_minor: int) -> str:
    """Bank of Russia ПДН bands: <30 fine, 30–50 caution, >50 high, >80 critical."""
    if payments_minor <= 0:
        return BAND_FINE
    if income_minor <= 0:
        return BAND_UNKNOWN
    ratio = Decimal(payments_minor) * HUNDRED / Decimal(income_minor)
    if ratio < 30:
        return BAND_FINE
    if ratio <= 50:
        return BAND_CAUTION
    return BAND_HIGH if ratio <= 80 else BAND_CRITICAL


def dsti_percent(payments_minor: int, income_minor: int) -> Decimal | None:
    """Σ monthly payments / regular monthly income in percent (1 decimal, ROUND_HALF_UP)."""
    if payments_minor <= 0:
        return Decimal("0.0")
    if income_minor <= 0:
        return None
    return round_places(Decimal(payments_minor) * HUNDRED / Decimal(income_minor))


def dsti_figure(payments: int, income: int, band: str) -> Figure:
    """The DSTI as an explained figure."""
    inputs = {"monthly_payments_minor": payments, "regular_income_minor": income, "band": band}
    if band == BAND_UNKNOWN:
        text = "Loan payments exist but no regular income was found, so ПДН cannot be computed."
    elif payments == 0:
        text = "No loan or card payments: debt service is 0% of income."
    else:
        text = "Monthly debt payments / regular monthly income (Bank of Russia ПДН)."
    return Figure(dsti_percent(payments, income), "percent", inputs, "month", text)
