"""Credits on a trader's linked bank account, and what each did to the pay-ins."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, UtcDatetime, created_at_field, enum_type, new_id
from models.connect import BankCode


class CreditOutcome(StrEnum):
    confirmed = "confirmed"  # exactly one open order, exact amount: confirmed by the statement
    suggested = "suggested"  # exact match, trader's policy "suggest": one click confirms
    near_amount = "near_amount"  # within the store's shift step of an open order: suggest + flag
    ambiguous = "ambiguous"  # two or more open orders could take it: suggest + flag, no guess
    verified = "verified"  # the credit behind an order the trader had confirmed by hand
    payout_debit = "payout_debit"  # not a credit: the trader's payment of a pay-out, as evidence
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


class RequisiteLink(SQLModel):
    """Link a requisite to one of my synced accounts (`GET /api/accounts` lists them)."""

    bank: BankCode
    account_id: uuid.UUID


class StatementPolicyUpdate(SQLModel):
    policy: Literal["auto", "suggest"]


class Suggestion(SQLModel):
    """ "Money arrived: confirm?" — a credit the statement offers for one of my open orders."""

    order_id: uuid.UUID
    order_amount: str
    credit_amount: str
    currency: str
    outcome: CreditOutcome
    booked_at: UtcDatetime
    evidence: str
    payer: str | None = None


class StatementView(SQLModel):
    """My statement bridge: policy, the watch's last word on my bank, and what awaits me."""

    policy: str
    status: str | None
    error: str | None
    checked_at: UtcDatetime | None
    linked_requisites: list[uuid.UUID]
    suggestions: list[Suggestion]


class CreditPublic(SQLModel):
    """A decided credit, for admin (orphans: money that no open order took)."""

    id: uuid.UUID
    transaction_id: uuid.UUID
    requisite_id: uuid.UUID
    order_id: uuid.UUID | None
    outcome: CreditOutcome
    amount: str
    booked_at: UtcDatetime
    created_at: UtcDatetime


class FlaggedOrder(SQLModel):
    """A pay-in the statement bridge flagged for admin (nothing was blocked or decided)."""

    id: uuid.UUID
    status: str
    amount: str
    currency: str
    trader_id: uuid.UUID | None
    requisite_id: uuid.UUID | None
    flags: list[str]
    finished_at: UtcDatetime | None
    updated_at: UtcDatetime
