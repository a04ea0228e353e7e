"""Reports for staff: turnover and profit per period and group, read off the ledger (JSON
or CSV)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from api.deps import CurrentTeamlead, ReportReader, SessionDep
from contracts.processing import OrderKind
from core.errors import NotFound
from models.amounts import CURRENCY_PATTERN
from models.inputs import Day
from models.reports import Granularity, TurnoverReport
from processing.reports.export import turnover_csv, turnover_report
from processing.reports.lines import check_query
from processing.reports.turnover import TurnoverQuery, parse_group_by
from processing.teams.lead import team_of

router = APIRouter()

CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV when asked"}
}


def _wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in request.headers.get("accept", "")


def report_answer(
    request: Request, session: Session, query: TurnoverQuery, fmt: str | None
) -> TurnoverReport | Response:
    """The report as JSON, or as a CSV download when asked (`format=csv` or Accept),
    streamed (its input checked first: a refusal is a 422, not a broken download)."""
    if not _wants_csv(request, fmt):
        return turnover_report(session, query)
    check_query(query)
    name = f"turnover_{query.date_from.isoformat()}_{query.date_to.isoformat()}.csv"
    return StreamingResponse(
        turnover_csv(session, query),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def turnover_query(
    date_from: dt.date | None,
    date_to: dt.date | None,
    granularity: Granularity,
    group_by: str,
    filters: Mapping[str, object | None],
) -> TurnoverQuery:
    """`to` defaults to today, `from` to 30 days before it; unset filters are dropped."""
    end = date_to or dt.datetime.now(dt.UTC).date()
    return TurnoverQuery(
        date_from=date_from or end - dt.timedelta(days=30),
        date_to=end,
        granularity=granularity,
        group_by=parse_group_by(group_by),
        filters={name: value for name, value in filters.items() if value is not None},
    )


DateFrom = Annotated[Day | None, Query(alias="from")]
DateTo = Annotated[Day | None, Query(alias="to")]
GroupBy = Annotated[str, Query(max_length=200, pattern=r"^[a-z_,]*$")]
Currency = Annotated[str | None, Query(pattern=CURRENCY_PATTERN)]
Format = Annotated[Literal["json", "csv"] | None, Query(alias="format")]


@router.get("/reports/turnover", response_model=TurnoverReport, responses=CSV_ANSWER)
def turnover(
    request: Request,
    session: SessionDep,
    _: ReportReader,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    granularity: Granularity = Granularity.day,
    group_by: GroupBy = "",
    merchant_id: uuid.UUID | None = None,
    store_id: uuid.UUID | None = None,
    trader_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    currency: Currency = None,
    kind: OrderKind | None = None,
    fmt: Format = None,
) -> TurnoverReport | Response:
    """Orders, volume, fees, rewards, team-lead shares, profit and corrections from the
    ledger, per day, week or month and per group (merchant, store, trader, team, currency,
    kind; at most a year; `to` defaults to today, `from` to 30 days before it)."""
    given = {
        "merchant": merchant_id,
        "store": store_id,
        "trader": trader_id,
        "team": team_id,
        "currency": currency,
        "kind": kind.value if kind else None,
    }
    query = turnover_query(date_from, date_to, granularity, group_by, given)
    return report_answer(request, session, query, fmt)


# A team lead's own turnover: the same report, only ever over the orders of their team.
teamlead_router = APIRouter()


@teamlead_router.get(
    "/reports/turnover",
    response_model=TurnoverReport,
    responses={**CSV_ANSWER, 404: {"description": "`team_not_found`: you lead no team yet"}},
)
def team_turnover(
    request: Request,
    session: SessionDep,
    user: CurrentTeamlead,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    granularity: Granularity = Granularity.day,
    group_by: GroupBy = "",
    trader_id: uuid.UUID | None = None,
    currency: Currency = None,
    kind: OrderKind | None = None,
    fmt: Format = None,
) -> TurnoverReport | Response:
    """My team's orders, volume, fees, rewards, my shares and corrections, from the ledger
    (orders fixed to my team when matched or taken), per period and group."""
    team = team_of(session, user.id)
    if team is None:
        raise NotFound("You lead no team yet", code="team_not_found")
    given = {
        "team": team.id,
        "trader": trader_id,
        "currency": currency,
        "kind": kind.value if kind else None,
    }
    query = turnover_query(date_from, date_to, granularity, group_by, given)
    return report_answer(request, session, query, fmt)
