"""Synced bank data: accounts, balance snapshots, transactions, product agreements."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, UtcDatetime, created_at_field, enum_type, new_id


class AccountKind(StrEnum):
    liquid = "liquid"
    deposit = "deposit"
    liability = "liability"
    other = "other"


class TransactionStatus(StrEnum):
    booked = "booked"
    pending = "pending"
    declined = "declined"
    refunded = "refunded"


class BankAccount(SQLModel, table=True):
    __tablename__ = "bank_accounts"
    __table_args__ = (
        UniqueConstraint("user_id", "bank_code", "external_id", name="uq_bank_accounts_external"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    bank_code: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    sub_type: str = Field(max_length=32)
    kind: AccountKind = Field(sa_type=enum_type(AccountKind))
    currency: str = Field(max_length=3)
    nickname: str | None = Field(default=None, max_length=200)
    # Account numbers are shown by their last four digits only.
    number_masked: str | None = Field(default=None, max_length=16)
    status: str = Field(default="Enabled", max_length=32)
    opening_date: date | None = None
    available_minor: int | None = Field(default=None, sa_type=BigInteger)
    booked_minor: int | None = Field(default=None, sa_type=BigInteger)
    balance_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class BalanceSnapshot(SQLModel, table=True):
    __tablename__ = "balance_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="bank_accounts.id", index=True)
    balance_type: str = Field(max_length=32)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    as_of: datetime = Field(sa_type=UTCDateTime)
    captured_at: datetime = created_at_field()


class BankTransaction(SQLModel, table=True):
    __tablename__ = "bank_transactions"
    __table_args__ = (
        UniqueConstraint(
            "bank_code", "account_id", "external_id", name="uq_bank_transactions_external"
        ),
        Index("ix_bank_transactions_user_booked", "user_id", "booked_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id")
    account_id: uuid.UUID = Field(foreign_key="bank_accounts.id", index=True)
    bank_code: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    booked_at: datetime = Field(sa_type=UTCDateTime)
    value_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: TransactionStatus = Field(sa_type=enum_type(TransactionStatus))
    description: str | None = Field(default=None, max_length=500)
    bank_tx_code: str | None = Field(default=None, max_length=64)
    mcc: str | None = Field(default=None, max_length=8)
    merchant_name: str | None = Field(default=None, max_length=200)
    merchant_category: str | None = Field(default=None, max_length=100)
    counterparty: str | None = Field(default=None, max_length=200)
    card_masked: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=64)
    is_own_transfer: bool = False
    created_at: datetime = created_at_field()


class ProductAgreement(SQLModel, table=True):
    __tablename__ = "product_agreements"
    __table_args__ = (
        UniqueConstraint("user_id", "bank_code", "agreement_id", name="uq_product_agreements_ext"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    bank_code: str = Field(max_length=16)
    agreement_id: str = Field(max_length=64)
    product_id: str | None = Field(default=None, max_length=64)
    product_name: str | None = Field(default=None, max_length=200)
    product_type: str = Field(max_length=32)
    amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    status: str = Field(default="active", max_length=32)
    start_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    account_number_masked: str | None = Field(default=None, max_length=16)
    interest_rate: Decimal | None = Field(default=None, sa_type=Numeric(8, 4))
    balance_minor: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: datetime = created_at_field()


class SyncRun(SQLModel, table=True):
    """One sync of one bank for one user: what it found and added."""

    __tablename__ = "sync_runs"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    bank_code: str = Field(max_length=16)
    # running, then a SyncStatus (the longest: reconsent_required).
    status: str = Field(default="running", max_length=32)
    accounts: int = 0
    transactions_seen: int = 0
    transactions_added: int = 0
    transactions_updated: int = 0
    agreements: int = 0
    error: str | None = Field(default=None, max_length=1000)
    started_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountPublic(SQLModel):
    id: uuid.UUID
    bank_code: str
    external_id: str
    sub_type: str
    kind: AccountKind
    currency: str
    nickname: str | None
    number_masked: str | None
    status: str
    available: str | None
    booked: str | None
    balance_at: UtcDatetime | None


class TransactionPublic(SQLModel):
    id: uuid.UUID
    account_id: uuid.UUID
    bank_code: str
    external_id: str
    booked_at: UtcDatetime
    amount: str
    currency: str
    status: TransactionStatus
    description: str | None
    merchant_name: str | None
    category: str | None
    is_own_transfer: bool


class TransactionPage(SQLModel):
    items: list[TransactionPublic]
    page: int
    page_size: int
    # Rows matching the filters, counted up to 1,000: when there are more, `total` is 1000
    # and `total_exact` is false ("1,000 or more").
    total: int
    total_exact: bool
    # Pass as `cursor` for the next page (keyset, stable while new rows arrive); null on the
    # last one.
    next_cursor: str | None
