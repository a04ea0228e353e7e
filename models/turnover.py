"""The turnover report's daily rollups: each settle or correction posting's figures, added
in the transaction that writes it (`processing.reports.rollup`), so a report over a period
reads a row per day and group instead of every posting of the period.

Two grains, as the report is asked: per store (merchant, store, currency, kind) and per
trader (trader, the team lead the order was fixed to, currency, kind). A store crossed with
a trader would be as many rows as the postings themselves: such a report reads the ledger.
Figures are in minor units of the order's currency, named as the report names them.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

# A key column cannot be NULL: an order without a team lead (or, never seen, a trader) is
# filed under the nil UUID, which no user or trader has; the report reads it back as NULL.
NO_ONE = uuid.UUID(int=0)


class TurnoverFiguresRow(SQLModel):
    orders: int = Field(default=0, sa_type=BigInteger)
    volume: int = Field(default=0, sa_type=BigInteger)
    fees: int = Field(default=0, sa_type=BigInteger)
    rewards: int = Field(default=0, sa_type=BigInteger)
    teamlead_shares: int = Field(default=0, sa_type=BigInteger)
    profit: int = Field(default=0, sa_type=BigInteger)
    disputes: int = Field(default=0, sa_type=BigInteger)
    corrections: int = Field(default=0, sa_type=BigInteger)
    corrections_amount: int = Field(default=0, sa_type=BigInteger)
    corrections_profit: int = Field(default=0, sa_type=BigInteger)


class TurnoverStoreDay(TurnoverFiguresRow, table=True):
    __tablename__ = "turnover_store_days"

    # The UTC day of the postings' `created_at`.
    day: date = Field(primary_key=True)
    store_id: uuid.UUID = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=8)
    kind: str = Field(primary_key=True, max_length=8)
    merchant_id: uuid.UUID


class TurnoverTraderDay(TurnoverFiguresRow, table=True):
    __tablename__ = "turnover_trader_days"

    day: date = Field(primary_key=True)
    trader_id: uuid.UUID = Field(primary_key=True)
    teamlead_id: uuid.UUID = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=8)
    kind: str = Field(primary_key=True, max_length=8)
