"""The team lead's share, fixed on an order when a trader gets it (a pay-in matched, a
pay-out taken), so a later change of the team or its share never changes an order."""

from __future__ import annotations

from sqlmodel import Session

from models.orders import Order
from models.teams import Team
from models.traders import Trader
from processing.ledger.settlement import bps_of


def fix_teamlead_share(session: Session, order: Order, trader: Trader | None) -> None:
    """The lead and share of `trader`'s team onto the order, after its reward is fixed; none
    for a trader in no team (or a team whose share is 0), or `trader` None (back in the pool)."""
    team = session.get(Team, trader.team_id) if trader is not None and trader.team_id else None
    if team is None or team.share_bps == 0:
        order.teamlead_id = order.teamlead_share_bps = order.teamlead_share_minor = None
        return
    order.teamlead_id, order.teamlead_share_bps = team.lead_user_id, team.share_bps
    order.teamlead_share_minor = bps_of(order.reward_minor or 0, team.share_bps)
