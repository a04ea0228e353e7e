"""Credits on a trader's linked bank account, and what each did to the pay-ins."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field, enum_type, new_id


class CreditOutcome(StrEnum):
    confirmed = "confirmed"  # exactly one open order, exact amount: confirmed by the statement
    suggested = "suggested"  # exact match, trader's policy "suggest": one click confirms
    near_amount = "near_amount"  # within the store's shift step of an open order: suggest + flag
    orphan = "orphan"  # no open order takes it (e.g. it arrived after expiry): for admin


class StatementCredit(SQLModel, table=True):
    """One incoming bank transaction, decided once (the unique transaction id makes a
    transaction confirm at most one order, however often it is delivered)."""

    __tablename__ = "statement_credits"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    transaction_id: uuid.UUID = Field(foreign_key="bank_transactions.id", unique=True)
    requisite_id: uuid.UUID = Field(foreign_key="requisites.id", index=True)
    order_id: uuid.UUID | None = Field(default=None, foreign_key="orders.id", index=True)
    outcome: CreditOutcome = Field(sa_type=enum_type(CreditOutcome))
    amount_minor: int = Field(sa_type=BigInteger)
    booked_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
