"""Deposits and withdrawals: the request rows their workflows mirror, and the API schemas.

A row names its owner (a trader, or a store) and who approved it; the ledger holds the money
(a withdrawal's hold, the credit or completion posting keyed by the row's id).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from contracts.funds import DepositStatus, OwnerKind, WithdrawalStatus
from models.amounts import AmountStr
from models.base import UTCDateTime, UtcDatetime, created_at_field, enum_type, new_id

# Wide enough for the crypto settlement currencies (USDT) the currency table grows to.
CURRENCY_LENGTH = 8
# Requests whose workflow has not been started yet (a few, briefly): the partial indexes'
# predicate, which the reconciler's sweep reads (`processing/funds/sweep.py`).
WORKFLOW_NOT_STARTED = "workflow_started_at IS NULL"


def not_started_index(table: str) -> Index:
    return Index(
        f"ix_{table}_not_started",
        "created_at",
        postgresql_where=text(WORKFLOW_NOT_STARTED),
        sqlite_where=text(WORKFLOW_NOT_STARTED),
    )


class Deposit(SQLModel, table=True):
    __tablename__ = "deposits"
    __table_args__ = (
        # The owner's (or the admin's) reference makes a retried request the same request.
        UniqueConstraint("owner_kind", "owner_id", "reference", name="uq_deposits_reference"),
        Index("ix_deposits_status_created", "status", "created_at"),
        not_started_index("deposits"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    owner_kind: OwnerKind = Field(sa_type=enum_type(OwnerKind))
    owner_id: uuid.UUID = Field(index=True)
    merchant_id: uuid.UUID | None = Field(default=None, foreign_key="merchants.id", index=True)
    currency: str = Field(foreign_key="currencies.code", max_length=CURRENCY_LENGTH)
    amount_minor: int = Field(sa_type=BigInteger)
    reference: str = Field(max_length=128)
    tx_hash: str | None = Field(default=None, max_length=128)
    proof_key: str | None = Field(default=None, max_length=300)
    status: DepositStatus = Field(default=DepositStatus.requested, sa_type=enum_type(DepositStatus))
    needs_two: bool = False
    requested_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    confirmed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    approved_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    reason: str | None = Field(default=None, max_length=500)
    # Set once the engine has the request's workflow; until then the reconciler starts it.
    workflow_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Withdrawal(SQLModel, table=True):
    __tablename__ = "withdrawals"
    __table_args__ = (
        UniqueConstraint(
            "owner_kind", "owner_id", "idempotency_key", name="uq_withdrawals_idempotency_key"
        ),
        Index("ix_withdrawals_status_created", "status", "created_at"),
        not_started_index("withdrawals"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    owner_kind: OwnerKind = Field(sa_type=enum_type(OwnerKind))
    owner_id: uuid.UUID = Field(index=True)
    merchant_id: uuid.UUID | None = Field(default=None, foreign_key="merchants.id", index=True)
    currency: str = Field(foreign_key="currencies.code", max_length=CURRENCY_LENGTH)
    amount_minor: int = Field(sa_type=BigInteger)
    fee_minor: int = Field(sa_type=BigInteger)
    destination_kind: str = Field(max_length=16)
    # Shown to everyone; the full destination only to the staff member paying it.
    destination_masked: str = Field(max_length=64)
    destination_encrypted: str = Field(max_length=500)
    idempotency_key: str | None = Field(default=None, max_length=128)
    request_hash: str | None = Field(default=None, max_length=64)
    status: WithdrawalStatus = Field(
        default=WithdrawalStatus.requested, sa_type=enum_type(WithdrawalStatus)
    )
    needs_two: bool = False
    first_approved_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    approved_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    paid_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    tx_hash: str | None = Field(default=None, max_length=128)
    proof_key: str | None = Field(default=None, max_length=300)
    reason: str | None = Field(default=None, max_length=500)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set once the engine has the request's workflow; until then the reconciler starts it.
    workflow_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class DepositCreate(SQLModel):
    amount: AmountStr
    currency: str = Field(min_length=3, max_length=CURRENCY_LENGTH)
    # The transaction that brought the money (or send a proof file instead). A form part is
    # there or not: no null (empty means "not sent").
    tx_hash: str = Field(default="", min_length=8, max_length=128)
    # Your own reference: the same reference again is the same request.
    reference: str = Field(min_length=1, max_length=64)


class DepositPublic(SQLModel):
    id: uuid.UUID
    owner_kind: OwnerKind
    owner_id: uuid.UUID
    currency: str
    amount: str
    reference: str
    tx_hash: str | None
    has_proof: bool
    status: DepositStatus
    # Above the threshold a second, different staff member approves.
    needs_two: bool
    confirmed_by: uuid.UUID | None
    approved_by: uuid.UUID | None
    reason: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class DepositsPage(SQLModel):
    items: list[DepositPublic]
    next_offset: int | None


class Destination(SQLModel):
    kind: Literal["trc20", "card"]
    # A TRC-20 address (`T` + 33 base58 characters, checksum checked) or a card number.
    value: str = Field(min_length=12, max_length=40)


class WithdrawalCreate(SQLModel):
    amount: AmountStr
    currency: str = Field(min_length=3, max_length=CURRENCY_LENGTH)
    destination: Destination


class MerchantWithdrawalCreate(WithdrawalCreate):
    # The store whose balance pays it.
    store_id: uuid.UUID


class WithdrawalPublic(SQLModel):
    id: uuid.UUID
    owner_kind: OwnerKind
    owner_id: uuid.UUID
    currency: str
    amount: str
    fee: str
    destination_kind: str
    destination: str  # masked
    status: WithdrawalStatus
    needs_two: bool
    first_approved_by: uuid.UUID | None
    approved_by: uuid.UUID | None
    tx_hash: str | None
    has_proof: bool
    reason: str | None
    escalated_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class WithdrawalsPage(SQLModel):
    items: list[WithdrawalPublic]
    next_offset: int | None


class DestinationRevealed(SQLModel):
    withdrawal_id: uuid.UUID
    kind: str
    value: str


class FundsDecision(SQLModel):
    reason: str | None = Field(default=None, max_length=500)
