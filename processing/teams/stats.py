"""Statistics of a team lead's traders in a period: per trader, kind and currency, the orders
they got, how many completed and for how much, how many closed unpaid or were disputed, and
the rewards and lead's shares fixed on the completed ones. Computed from the orders in one
grouped query (the platform's reports read the ledger)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from contracts.processing import OrderStatus
from core.errors import Invalid
from models.amounts import to_decimal
from models.base import utcnow
from models.orders import Order
from models.teams import TeamStats, TraderStatsRow
from processing.teams.lead import team_members
from processing.views import minor_units

MAX_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=30)
UNPAID = (OrderStatus.cancelled, OrderStatus.expired, OrderStatus.failed)


def period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """[since, until): the last 30 days by default; at most 366 days (422 `range_too_long`)."""
    until = until or utcnow()
    since = since or until - DEFAULT_PERIOD
    if since >= until:
        raise Invalid("since must be before until", code="invalid_range")
    if until - since > MAX_PERIOD:
        raise Invalid("The period is longer than 366 days", code="range_too_long")
    return since, until


def _sum_if(condition: Any, value: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def team_stats(
    session: Session, lead_id: uuid.UUID, since: datetime | None, until: datetime | None
) -> TeamStats:
    start, end = period(since, until)
    completed = col(Order.status) == OrderStatus.completed
    query = (
        sa_select(
            col(Order.trader_id),
            col(Order.kind),
            col(Order.currency),
            func.count(),
            _sum_if(completed, 1),
            _sum_if(completed, func.coalesce(Order.actual_amount_minor, Order.amount_minor)),
            _sum_if(col(Order.status).in_(UNPAID), 1),
            _sum_if(col(Order.disputed_at).is_not(None), 1),
            _sum_if(completed, func.coalesce(Order.reward_minor, 0)),
            _sum_if(completed, func.coalesce(Order.teamlead_share_minor, 0)),
        )
        .where(
            col(Order.trader_id).in_(team_members(session, lead_id)),
            col(Order.created_at) >= start,
            col(Order.created_at) < end,
        )
        .group_by(col(Order.trader_id), col(Order.kind), col(Order.currency))
        .order_by(col(Order.trader_id), col(Order.kind), col(Order.currency))
    )
    rows = []
    for trader_id, kind, currency, *counts in session.connection().execute(query):
        orders, done, volume, unpaid, disputed, rewards, shares = (int(v) for v in counts)
        units = minor_units(session, currency)
        rows.append(
            TraderStatsRow(
                trader_id=trader_id,
                kind=getattr(kind, "value", kind),
                currency=currency,
                orders=orders,
                completed=done,
                completed_volume=to_decimal(volume, units),
                closed_unpaid=unpaid,
                disputed=disputed,
                rewards=to_decimal(rewards, units),
                teamlead_shares=to_decimal(shares, units),
            )
        )
    return TeamStats(since=start, until=end, rows=rows)
