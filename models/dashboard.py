"""GET /api/dashboard: the request's envelope and the block pre-assembled with each snapshot.

`DashboardBlock` is what `analytics_snapshots.dashboard` stores (dumped through this model
when the snapshot is written); the route splices that stored JSON into a `DashboardEnvelope`
without parsing it. `DashboardPublic` is the two together, the body the client receives.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer, WithJsonSchema
from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from models.banking import AccountPublic
from models.base import UTCDateTime, created_at_field
from models.connect import ConnectionPublic
from models.insights import (
    FigurePublic,
    LoanPublic,
    MoneyPublic,
    NextPaymentPublic,
    StrictPublic,
    omitted_when_none,
)

# Python's isoformat ("+00:00", not pydantic's "Z"): the text stored since the first snapshot.
IsoDatetime = Annotated[
    dt.datetime,
    PlainSerializer(dt.datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ForecastPublic(StrictPublic):
    lowest_balance: FigurePublic
    lowest_date: dt.date
    goes_negative: bool


class HeadlinePublic(StrictPublic):
    """The figures of one currency the dashboard headlines."""

    currency: str
    liquid_available: FigurePublic
    safe_to_spend: FigurePublic
    safe_to_spend_per_day: FigurePublic
    overspent: bool
    message: str
    days_until_income: int
    next_income_date: FigurePublic
    total_debt: FigurePublic
    monthly_debt_payments: FigurePublic
    dsti: FigurePublic
    dsti_band: str
    next_payment: NextPaymentPublic | None
    forecast: ForecastPublic


class HealthComponentPublic(StrictPublic):
    name: str
    score: int | None
    inputs: dict[str, Any]
    explanation: str


class HealthPublic(StrictPublic):
    score: int | None
    tier: str
    confidence: str
    available: int
    components: list[HealthComponentPublic]


class SnapshotStamp(StrictPublic):
    as_of: IsoDatetime
    primary_currency: str


# The stamp comes first in the MRO's reverse, so the stamp's keys lead, as they always have.
class DashboardMetricsPublic(HeadlinePublic, SnapshotStamp):
    """The primary currency's headline, the health score and the other currencies' headlines."""

    health: HealthPublic
    other_currencies: list[HeadlinePublic]


class UpcomingPaymentPublic(StrictPublic):
    due: dt.date
    kind: Literal["loan", "bill"]
    name: str
    currency: str
    amount_minor: int
    amount: str
    source: str


class DashboardBlock(StrictPublic):
    """Stored with each snapshot; `metrics` is null only when there is no snapshot."""

    metrics: DashboardMetricsPublic | None
    debts: list[LoanPublic]
    next_payments: list[UpcomingPaymentPublic]


class SnapshotRefPublic(StrictPublic):
    id: uuid.UUID
    as_of: IsoDatetime
    computed_at: IsoDatetime


class CurrencyBalancesPublic(StrictPublic):
    """Totals of one currency per account kind (kinds without accounts are left out).

    The kinds are declared in alphabetical order, the order their keys have always had.
    """

    currency: str
    deposit: MoneyPublic | None = omitted_when_none("Booked balance of deposits.")
    liability: MoneyPublic | None = omitted_when_none("Debt on loan and card accounts.")
    liquid: MoneyPublic | None = omitted_when_none("Available balance of liquid accounts.")
    other: MoneyPublic | None = omitted_when_none("Booked balance of other accounts.")
    source: str


AttentionReason = Literal[
    "reconsent_required", "consent_expiring_soon", "sync_error", "revoke_pending"
]
DashboardStatus = Literal["ready", "syncing", "no_data"]


class AttentionPublic(StrictPublic):
    bank_code: str
    reason: AttentionReason
    message: str


class BankName(SQLModel):
    name: str


# The name's base comes first in the MRO's reverse, so `name` leads, as it always has.
class BankStatusPublic(ConnectionPublic, BankName):
    """A bank's connection status with its display name."""


class DashboardEnvelope(StrictPublic):
    """Read on each request: statuses, accounts, balances and what needs the user's action."""

    status: DashboardStatus
    refreshing: bool
    snapshot: SnapshotRefPublic | None
    accounts: list[AccountPublic]
    balances: list[CurrencyBalancesPublic]
    banks: list[BankStatusPublic]
    attention: list[AttentionPublic]


class DashboardPublic(DashboardBlock, DashboardEnvelope):
    """The whole GET /api/dashboard body: the envelope's keys, then the stored block's."""


class UserDashboard(SQLModel, table=True):
    """One user's whole `DashboardPublic` body, JSON-encoded: rewritten in the transaction of
    every change to what it shows (`connect.dashboard.refresh_document`), read as it is."""

    __tablename__ = "user_dashboards"

    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True)
    body: bytes = Field(sa_type=LargeBinary)
    # When the clock alone makes the body wrong (a consent entering its last week), if ever.
    stale_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: dt.datetime = created_at_field()
