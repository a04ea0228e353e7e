"""Team lead API (JWT, role teamlead): my team and earnings, my traders with their balances
(read-only), their orders and statistics, and each trader's traffic switch. A trader or an
order outside my team is a 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.audit import action_of
from api.deps import CurrentTeamlead, SessionDep
from contracts.processing import OrderKind, OrderStatus
from models.cabinet import CURSOR_PATTERN
from models.inputs import Moment
from models.teams import (
    LeadMe,
    LeadOrdersPage,
    LeadPayin,
    LeadPayout,
    TeamStats,
    TeamTrader,
    TrafficUpdate,
)
from processing.teams import lead, stats


async def audit_lead_writes(request: Request, session: SessionDep, user: CurrentTeamlead) -> None:
    """A team lead's writes (the traffic switch) are audited like staff writes."""
    if request.method != "GET":
        session.info["audit_actor"] = user.id
        session.info["audit_action"] = action_of(request)


router = APIRouter(dependencies=[Depends(audit_lead_writes)])
Cursor = Annotated[str | None, Query(pattern=CURSOR_PATTERN, max_length=49)]


@router.get("/me", response_model=LeadMe)
def me(session: SessionDep, user: CurrentTeamlead) -> LeadMe:
    """My team (null until an administrator creates it) and my earnings per currency."""
    return lead.lead_me(session, user.id)


@router.get("/traders", response_model=list[TeamTrader])
def my_traders(session: SessionDep, user: CurrentTeamlead) -> list[TeamTrader]:
    """My traders: online or not, traffic on or off, collateral and balances per currency."""
    return lead.traders(session, user.id)


@router.get("/traders/{trader_id}", response_model=TeamTrader)
def my_trader(trader_id: uuid.UUID, session: SessionDep, user: CurrentTeamlead) -> TeamTrader:
    """One of my traders."""
    return lead.trader(session, user.id, trader_id)


@router.post("/traders/{trader_id}/traffic", response_model=TeamTrader)
def set_traffic(
    trader_id: uuid.UUID, body: TrafficUpdate, session: SessionDep, user: CurrentTeamlead
) -> TeamTrader:
    """Turn a trader's traffic on or off: off, no new pay-ins are matched to them."""
    return lead.set_traffic(session, user.id, trader_id, body.enabled)


def order_filter(
    kind: OrderKind = OrderKind.payin,
    status: OrderStatus | None = None,
    trader_id: uuid.UUID | None = None,
    created_from: Moment | None = None,
    created_to: Moment | None = None,
) -> lead.LeadOrderFilter:
    return lead.LeadOrderFilter(kind, status, trader_id, created_from, created_to)


@router.get("/orders", response_model=LeadOrdersPage)
def orders(
    session: SessionDep,
    user: CurrentTeamlead,
    f: Annotated[lead.LeadOrderFilter, Depends(order_filter)],
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> LeadOrdersPage:
    """My traders' orders (or one trader's), newest first; `next_cursor` gives the next page."""
    items, following = lead.orders_page(session, user.id, f, cursor, limit)
    return LeadOrdersPage(items=items, next_cursor=following)


@router.get("/orders/{order_id}", response_model=LeadPayin | LeadPayout)
def one_order(
    order_id: uuid.UUID, session: SessionDep, user: CurrentTeamlead
) -> LeadPayin | LeadPayout:
    """One order of one of my traders."""
    return lead.order(session, user.id, order_id)


@router.get(
    "/stats",
    response_model=TeamStats,
    responses={422: {"description": "`range_too_long` (over 366 days) or `invalid_range`"}},
)
def team_stats(
    session: SessionDep,
    user: CurrentTeamlead,
    since: Moment | None = None,
    until: Moment | None = None,
) -> TeamStats:
    """Per trader, kind and currency: orders created in [since, until) (30 days by default),
    completed and their volume, closed unpaid, disputed, rewards and my shares."""
    return stats.team_stats(session, user.id, since, until)
