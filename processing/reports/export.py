"""The turnover report as the API answers it: amounts formatted in each currency's minor
units (JSON), or the same rows as CSV."""

from __future__ import annotations

import csv
import io

from sqlmodel import Session

from models.amounts import to_decimal
from models.reports import TurnoverReport, TurnoverRow, TurnoverTotal
from processing.ledger.fx import minor_units
from processing.reports.turnover import COUNTS, FIGURES, TurnoverQuery, totals, turnover_lines


def _formatted(figures: dict[str, int], units: int) -> dict[str, object]:
    return {
        name: value if name in COUNTS else to_decimal(value, units)
        for name, value in figures.items()
    }


def turnover_report(session: Session, query: TurnoverQuery) -> TurnoverReport:
    lines = turnover_lines(session, query)
    units = {c: minor_units(session, c) for c in {line.currency for line in lines}}
    rows = [
        TurnoverRow(
            period=line.period,
            currency=line.currency,
            group=line.group,
            **_formatted(line.figures, units[line.currency]),  # type: ignore[arg-type]
        )
        for line in lines
    ]
    summed = [
        TurnoverTotal(currency=currency, **_formatted(figures, units[currency]))  # type: ignore[arg-type]
        for currency, figures in totals(lines).items()
    ]
    return TurnoverReport(
        date_from=query.date_from,
        date_to=query.date_to,
        granularity=query.granularity,
        group_by=list(query.group_by),
        rows=rows,
        totals=summed,
    )


def turnover_csv(report: TurnoverReport) -> str:
    """One line per row: period, currency, the groups asked for, then the figures."""
    groups = [name for name in report.group_by if name != "currency"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["period", "currency", *groups, *FIGURES])
    for row in report.rows:
        data = row.model_dump()
        writer.writerow(
            [
                row.period.isoformat(),
                row.currency,
                *(row.group.get(name) or "" for name in groups),
                *(data[name] for name in FIGURES),
            ]
        )
    return out.getvalue()
