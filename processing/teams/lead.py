"""The team lead's side: their team and earnings, their traders with their money (read-only),
their traders' orders, and the traffic switch.

Everything is scoped to the lead's own team in the query itself: a trader (or an order of
a trader) outside it is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from contracts.processing import OrderKind, OrderStatus
from core.cursors import decode_cursor, encode_cursor
from core.errors import NotFound
from models.amounts import to_decimal
from models.base import utcnow
from models.ledger import AccountKind, LedgerAccount
from models.orders import Order
from models.teams import LeadMe, LeadPayin, LeadPayout, Team, TeamTrader
from models.traders import Trader
from models.users import User
from processing.accounts.collateral import collateral_of
from processing.teams.admin import team_public
from processing.views import balance_public, minor_units, payin_public, payout_public


def team_of(session: Session, lead_id: uuid.UUID) -> Team | None:
    return session.exec(select(Team).where(Team.lead_user_id == lead_id)).first()


def lead_me(session: Session, lead_id: uuid.UUID) -> LeadMe:
    """The lead's team (none until an administrator creates one) and earnings per currency."""
    team = team_of(session, lead_id)
    accounts = session.exec(
        select(LedgerAccount)
        .where(LedgerAccount.kind == AccountKind.teamlead, LedgerAccount.owner_id == lead_id)
        .order_by(col(LedgerAccount.currency))
    ).all()
    return LeadMe(
        team=team_public(session, team) if team is not None else None,
        earnings=[balance_public(a, minor_units(session, a.currency)) for a in accounts],
    )


def team_members(session: Session, lead_id: uuid.UUID) -> list[uuid.UUID]:
    team = team_of(session, lead_id)
    if team is None:
        return []
    return list(session.exec(select(Trader.id).where(Trader.team_id == team.id)))


def _trader_or_404(session: Session, lead_id: uuid.UUID, trader_id: uuid.UUID) -> Trader:
    trader = session.exec(
        select(Trader)
        .join(Team, col(Team.id) == Trader.team_id)
        .where(Trader.id == trader_id, Team.lead_user_id == lead_id)
    ).first()
    if trader is None:
        raise NotFound("Trader not found", code="trader_not_found")
    return trader


def team_trader(session: Session, trader: Trader) -> TeamTrader:
    user = session.get(User, trader.user_id)
    assert user is not None
    return TeamTrader(
        trader_id=trader.id,
        user_id=trader.user_id,
        email=user.email,
        is_active=trader.is_active,
        is_online=trader.is_online,
        payin_enabled=trader.payin_enabled,
        payout_enabled=trader.payout_enabled,
        traffic_enabled=trader.traffic_enabled,
        traffic_changed_at=trader.traffic_changed_at,
        collateral=collateral_of(session, trader.id),
    )


def traders(session: Session, lead_id: uuid.UUID) -> list[TeamTrader]:
    rows = session.exec(
        select(Trader)
        .join(Team, col(Team.id) == Trader.team_id)
        .where(Team.lead_user_id == lead_id)
        .order_by(col(Trader.created_at))
    ).all()
    return [team_trader(session, trader) for trader in rows]


def trader(session: Session, lead_id: uuid.UUID, trader_id: uuid.UUID) -> TeamTrader:
    return team_trader(session, _trader_or_404(session, lead_id, trader_id))


def set_traffic(
    session: Session, lead_id: uuid.UUID, trader_id: uuid.UUID, enabled: bool
) -> TeamTrader:
    """Turn the trader's traffic on or off: off, matching gives them no new pay-ins (open
    orders still need them). Written in the request's session, so it is audited."""
    found = _trader_or_404(session, lead_id, trader_id)
    if found.traffic_enabled != enabled:
        found.traffic_enabled, found.traffic_changed_at = enabled, utcnow()
        session.add(found)
        session.commit()
        session.refresh(found)
    return team_trader(session, found)


@dataclass
class LeadOrderFilter:
    kind: OrderKind = OrderKind.payin
    status: OrderStatus | None = None
    trader_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def lead_order(session: Session, order: Order) -> LeadPayin | LeadPayout:
    """An order as the lead sees it: numbers masked, the trader's side of any conversion, the
    trader's reward and the lead's share."""
    units = minor_units(session, order.currency)

    def amount(minor: int | None) -> str | None:
        return None if minor is None else to_decimal(minor, units)

    reward, share = amount(order.reward_minor), amount(order.teamlead_share_minor)
    if order.kind == OrderKind.payout:
        public = payout_public(session, order, party="trader").model_dump()
        return LeadPayout(**public, trader_id=order.trader_id, reward=reward, teamlead_share=share)
    seen = payin_public(session, order, party="trader").model_dump()
    return LeadPayin(**seen, trader_id=order.trader_id, reward=reward, teamlead_share=share)


def orders_page(
    session: Session, lead_id: uuid.UUID, f: LeadOrderFilter, cursor: str | None, limit: int
) -> tuple[list[LeadPayin | LeadPayout], str | None]:
    """The team's traders' orders, newest first, keyset pages like the merchant cabinet's."""
    members = team_members(session, lead_id)
    if f.trader_id is not None:
        members = [_trader_or_404(session, lead_id, f.trader_id).id]
    query = select(Order).where(col(Order.trader_id).in_(members), Order.kind == f.kind)
    if f.status is not None:
        query = query.where(Order.status == f.status)
    if f.created_from is not None:
        query = query.where(col(Order.created_at) >= f.created_from)
    if f.created_to is not None:
        query = query.where(col(Order.created_at) < f.created_to)
    if cursor:
        moment, row_id = decode_cursor(cursor)
        query = query.where(
            (col(Order.created_at) < moment)
            | ((col(Order.created_at) == moment) & (col(Order.id) < row_id))
        )
    rows = list(
        session.exec(
            query.order_by(col(Order.created_at).desc(), col(Order.id).desc()).limit(limit + 1)
        )
    )
    more, rows = len(rows) > limit, rows[:limit]
    following = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return [lead_order(session, row) for row in rows], following


def order(session: Session, lead_id: uuid.UUID, order_id: uuid.UUID) -> LeadPayin | LeadPayout:
    found = session.exec(
        select(Order).where(
            Order.id == order_id, col(Order.trader_id).in_(team_members(session, lead_id))
        )
    ).first()
    if found is None:
        raise NotFound("Order not found", code="order_not_found")
    return lead_order(session, found)
