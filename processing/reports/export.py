"""The turnover report as the API answers it: amounts formatted in each currency's minor
units (JSON), or the same rows as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlmodel import Session

from models.amounts import to_decimal
from models.reports import TurnoverReport, TurnoverRow, TurnoverTotal
from processing.ledger.fx import minor_units
from processing.reports.lines import stream_lines, turnover_lines
from processing.reports.turnover import COUNTS, FIGURES, TurnoverQuery, totals

# A streamed CSV goes out in pieces of about this many characters.
CHUNK = 64 * 1024


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


def turnover_csv(session: Session, query: TurnoverQuery) -> Iterator[str]:
    """One line per row: period, currency, the groups asked for, then the figures; the
    header goes out before the query runs (a stream: check the query before it starts)."""
    groups = [name for name in query.group_by if name != "currency"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["period", "currency", *groups, *FIGURES])
    yield _taken(out)
    units: dict[str, int] = {}
    for number, line in enumerate(stream_lines(session, query)):
        if line.currency not in units:
            units[line.currency] = minor_units(session, line.currency)
        figures = _formatted(line.figures, units[line.currency])
        writer.writerow(
            [
                line.period.isoformat(),
                line.currency,
                *(line.group.get(name) or "" for name in groups),
                *(figures[name] for name in FIGURES),
            ]
        )
        # The first row goes out at once (the time to the first byte is the query's), the
        # rest in pieces.
        if number == 0 or out.tell() > CHUNK:
            yield _taken(out)
    yield _taken(out)


def _taken(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text
