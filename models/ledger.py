"""Double-entry ledger: accounts, immutable postings with signed entries, and holds.

Sign convention: an entry's amount is added to the account's balance (what the platform
owes the account holder). Every posting's entries sum to zero.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field, enum_type, new_id


class AccountKind(StrEnum):
    trader = "trader"
    store = "store"
    platform_profit = "platform_profit"
    # The other side of trader deposits: money that entered the platform from outside.
    platform_funding = "platform_funding"


class LedgerAccount(SQLModel, table=True):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner_id", "currency", name="uq_ledger_accounts_owner"),
        # NULL owners are distinct to the key above: platform accounts need their own index.
        Index(
            "ux_ledger_accounts_platform",
            "kind",
            "currency",
            unique=True,
            postgresql_where=text("owner_id IS NULL"),
            sqlite_where=text("owner_id IS NULL"),
        ),
        CheckConstraint("held_minor >= 0", name="held_non_negative"),
        # Backs up the guarded UPDATEs: only platform accounts may go below zero.
        CheckConstraint(
            "allow_negative OR balance_minor - held_minor >= 0", name="available_non_negative"
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: AccountKind = Field(sa_type=enum_type(AccountKind))
    # trader id, store id, or NULL for platform accounts.
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    currency: str = Field(foreign_key="currencies.code", max_length=3)
    balance_minor: int = Field(default=0, sa_type=BigInteger)
    held_minor: int = Field(default=0, sa_type=BigInteger)
    allow_negative: bool = False
    created_at: datetime = created_at_field()


class Posting(SQLModel, table=True):
    """Immutable; corrections are new postings. The key (order + step) makes retries no-ops."""

    __tablename__ = "ledger_postings"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=32)
    order_id: uuid.UUID | None = Field(default=None, foreign_key="orders.id", index=True)
    memo: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()


class Entry(SQLModel, table=True):
    __tablename__ = "ledger_entries"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    posting_id: uuid.UUID = Field(foreign_key="ledger_postings.id", index=True)
    account_id: uuid.UUID = Field(foreign_key="ledger_accounts.id", index=True)
    amount_minor: int = Field(sa_type=BigInteger)


class HoldStatus(StrEnum):
    pending = "pending"
    posted = "posted"
    voided = "voided"


class Hold(SQLModel, table=True):
    """Reserved trader liquidity for one order; leaves `pending` exactly once."""

    __tablename__ = "ledger_holds"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", unique=True)
    account_id: uuid.UUID = Field(foreign_key="ledger_accounts.id", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    status: HoldStatus = Field(default=HoldStatus.pending, sa_type=enum_type(HoldStatus))
    created_at: datetime = created_at_field()
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PostingPublic(SQLModel):
    id: uuid.UUID
    idempotency_key: str
    kind: str
    order_id: uuid.UUID | None
    created_at: datetime
    entries: list[EntryPublic]


class EntryPublic(SQLModel):
    account_id: uuid.UUID
    account_kind: AccountKind
    owner_id: uuid.UUID | None
    amount: str
