"""Teams of traders under a team lead, and what the admin and the lead send and see.

A team has one lead (a `teamlead` user, leading no other team) and any number of traders (a
trader is in at most one team: `traders.team_id`). The lead earns `share_bps` of each of
their traders' rewards, fixed on the order when it is matched or taken.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field as PydanticField
from pydantic import StrictBool
from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from models.base import UtcDatetime, created_at_field, new_id
from models.inputs import JsonInt
from models.payins import BalancePublic, PayinPublic
from models.payouts import PayoutPublic
from models.traders import CollateralPublic

MAX_SHARE_BPS = 10_000  # the whole reward


class Team(SQLModel, table=True):
    __tablename__ = "teams"
    __table_args__ = (
        CheckConstraint(f"share_bps >= 0 AND share_bps <= {MAX_SHARE_BPS}", name="share_bps"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    # One team per lead.
    lead_user_id: uuid.UUID = Field(foreign_key="users.id", unique=True)
    # The lead's share of each of the team's traders' rewards, in basis points of the reward.
    share_bps: int = Field(default=0, ge=0, le=MAX_SHARE_BPS)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class TeamCreate(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    lead_user_id: uuid.UUID
    share_bps: JsonInt = Field(default=0, ge=0, le=MAX_SHARE_BPS)


class TeamUpdate(SQLModel):
    """Sent fields change, others stay; null is refused (422). A new share counts for orders
    matched or taken from now on; orders already fixed keep theirs."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    share_bps: JsonInt | None = Field(default=None, ge=0, le=MAX_SHARE_BPS)


class TeamPublic(SQLModel):
    id: uuid.UUID
    name: str
    lead_user_id: uuid.UUID
    lead_email: str
    share_bps: int
    trader_ids: list[uuid.UUID]
    created_at: UtcDatetime
    updated_at: UtcDatetime


class TrafficUpdate(SQLModel):
    enabled: StrictBool


class TeamTrader(SQLModel):
    """One of the lead's traders: who, whether they work, and their money (read-only)."""

    trader_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    is_active: bool
    is_online: bool
    payin_enabled: bool
    payout_enabled: bool
    # The lead's switch: false, no new pay-ins are matched to the trader.
    traffic_enabled: bool
    traffic_changed_at: UtcDatetime | None
    collateral: list[CollateralPublic]


class LeadPayin(PayinPublic):
    """A pay-in of one of the lead's traders (numbers masked), with the trader's reward and
    the lead's share fixed on it."""

    trader_id: uuid.UUID | None
    reward: str | None
    teamlead_share: str | None


class LeadPayout(PayoutPublic):
    trader_id: uuid.UUID | None
    reward: str | None
    teamlead_share: str | None


class LeadOrdersPage(SQLModel):
    items: list[Annotated[LeadPayin | LeadPayout, PydanticField(discriminator="kind")]]
    next_cursor: str | None


class TraderStatsRow(SQLModel):
    """One trader's orders of one kind and currency created in the period."""

    trader_id: uuid.UUID
    kind: Literal["payin", "payout"]
    currency: str
    orders: int
    completed: int
    # Completed orders' amounts (the actual amount where a dispute settled with one).
    completed_volume: str
    # Closed without money moving: cancelled, expired or failed after the trader had it.
    closed_unpaid: int
    disputed: int
    rewards: str
    teamlead_shares: str


class TeamStats(SQLModel):
    since: UtcDatetime
    until: UtcDatetime
    rows: list[TraderStatsRow]


class LeadMe(SQLModel):
    """The lead's team and what the lead has earned so far, per currency."""

    team: TeamPublic | None
    earnings: list[BalancePublic]
