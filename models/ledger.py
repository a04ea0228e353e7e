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
    # The platform's position in one currency against another (`counter_currency`): the
    # other side of every conversion, so each currency of a posting sums to zero.
    platform_fx = "platform_fx"
    # The other side of completed withdrawals: money the platform paid out of the ledger.
    platform_payout = "platform_payout"
    # A team lead's earnings (owner: the lead's user id): their share of their traders'
    # rewards, in the currency each trader's leg settled in.
    teamlead = "teamlead"


# The postings the turnover report counts, not yet in its daily rows.
UNROLLED = "turnover_rolled_at IS NULL AND kind IN ('payin_settle', 'payout_settle', 'correction')"
_PLATFORM = "owner_id IS NULL AND counter_currency IS NULL"
_FX = "counter_currency IS NOT NULL"


class LedgerAccount(SQLModel, table=True):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner_id", "currency", name="uq_ledger_accounts_owner"),
        # NULL owners are distinct to the key above: platform accounts need their own index,
        # and FX accounts (one per currency and counter currency) another.
        Index(
            "ux_ledger_accounts_platform",
            "kind",
            "currency",
            unique=True,
            postgresql_where=text(_PLATFORM),
            sqlite_where=text(_PLATFORM),
        ),
        Index(
            "ux_ledger_accounts_fx",
            "kind",
            "currency",
            "counter_currency",
            unique=True,
            postgresql_where=text(_FX),
            sqlite_where=text(_FX),
        ),
        CheckConstraint("held_minor >= 0", name="held_non_negative"),
        CheckConstraint("frozen_minor >= 0", name="frozen_non_negative"),
        # Backs up the guarded UPDATEs: only platform accounts may go below zero.
        CheckConstraint(
            "allow_negative OR balance_minor - held_minor >= 0", name="available_non_negative"
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: AccountKind = Field(sa_type=enum_type(AccountKind))
    # trader id, store id, team lead's user id, or NULL for platform accounts.
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    # FX accounts only: the other currency of the pair.
    counter_currency: str | None = Field(default=None, foreign_key="currencies.code", max_length=8)
    balance_minor: int = Field(default=0, sa_type=BigInteger)
    held_minor: int = Field(default=0, sa_type=BigInteger)
    # A trader's security deposit in force here: no hold may use it (the guard in
    # `place_hold`). Kept out of the CHECK above: a deposit raised over the balance must not
    # make the account's other writes fail; it only stops new holds.
    frozen_minor: int = Field(default=0, sa_type=BigInteger)
    # The administrator's deposit for this trader and currency; NULL: the platform default
    # (`security_deposit_default`), which `frozen_minor` then follows.
    security_deposit_minor: int | None = Field(default=None, sa_type=BigInteger)
    allow_negative: bool = False
    created_at: datetime = created_at_field()


class Posting(SQLModel, table=True):
    """Immutable; corrections are new postings. The key (order + step) makes retries no-ops."""

    __tablename__ = "ledger_postings"
    # The turnover report selects postings by date range (`processing.reports`); those it
    # counts and has not rolled up into its daily rows yet have an index of their own.
    __table_args__ = (
        Index("ix_ledger_postings_created_at", "created_at"),
        Index(
            "ix_ledger_postings_unrolled",
            "created_at",
            "id",
            postgresql_where=text(UNROLLED),
            sqlite_where=text(UNROLLED),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=32)
    order_id: uuid.UUID | None = Field(default=None, foreign_key="orders.id", index=True)
    memo: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    # When the turnover report's daily rows took this posting's figures in (settle and
    # correction postings only; `processing.reports.rollup`). NULL: the report reads it from
    # the entries, as it does every posting the previous release wrote during a deploy.
    turnover_rolled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Entry(SQLModel, table=True):
    __tablename__ = "ledger_entries"
    # An account's statement reads its lines in (posted_at, id) order, a keyset page each.
    __table_args__ = (Index("ix_ledger_entries_account_posted", "account_id", "posted_at", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    posting_id: uuid.UUID = Field(foreign_key="ledger_postings.id", index=True)
    account_id: uuid.UUID = Field(foreign_key="ledger_accounts.id", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    # The posting's `created_at`, copied onto each of its entries so an account's lines are
    # read by date without the postings. NULL only on rows written before migration 0026 (or
    # by the previous release during a deploy) until `launcher.backfill_posted_at` runs.
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class HoldStatus(StrEnum):
    pending = "pending"
    posted = "posted"
    voided = "voided"


class Hold(SQLModel, table=True):
    """Reserved balance for one order or one withdrawal; leaves `pending` exactly once."""

    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # Every hold is for exactly one thing: an order or a withdrawal.
        CheckConstraint("(order_id IS NULL) <> (withdrawal_id IS NULL)", name="one_reference"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID | None = Field(default=None, foreign_key="orders.id", unique=True)
    withdrawal_id: uuid.UUID | None = Field(default=None, foreign_key="withdrawals.id", unique=True)
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
