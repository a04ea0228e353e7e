"""Connect (open banking): bank connections, consents, tokens and the raw API log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, StrictBool, field_validator
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from contracts.connect import BANK_CODES, ConnectionStatus, ConsentKind, ConsentStatus
from models.base import UTCDateTime, UtcDatetime, created_at_field, enum_type, new_id


class BankConnection(SQLModel, table=True):
    __tablename__ = "bank_connections"
    __table_args__ = (
        UniqueConstraint("user_id", "bank_code", name="uq_bank_connections_user_bank"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    bank_code: str = Field(max_length=16)
    status: ConnectionStatus = Field(
        default=ConnectionStatus.not_connected, sa_type=enum_type(ConnectionStatus)
    )
    step: str = Field(default="", max_length=64)
    progress_pct: int = Field(default=0, ge=0, le=100)
    last_error: str | None = Field(default=None, max_length=1000)
    last_sync_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Optional data the bank did not give ([{"code", "message"}]); the bank is still usable.
    warnings: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    # The user allowed the platform to sign pending consents through the sandbox login.
    allow_sandbox_sign: bool = False
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Consent(SQLModel, table=True):
    __tablename__ = "consents"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    bank_code: str = Field(max_length=16)
    kind: ConsentKind = Field(sa_type=enum_type(ConsentKind))
    request_id: str = Field(max_length=64, index=True)
    consent_id: str | None = Field(default=None, max_length=64)
    status: ConsentStatus = Field(sa_type=enum_type(ConsentStatus))
    auto_approved: bool = False
    permissions: list[str] = Field(default_factory=list, sa_type=JSON)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ConsentEvent(SQLModel, table=True):
    """Status history of a consent (requested, approved, rejected, revoked, expired)."""

    __tablename__ = "consent_events"

    id: int | None = Field(default=None, primary_key=True)
    consent_row_id: uuid.UUID = Field(foreign_key="consents.id", index=True)
    status: ConsentStatus = Field(sa_type=enum_type(ConsentStatus))
    note: str | None = Field(default=None, max_length=500)
    at: datetime = created_at_field()


class BankToken(SQLModel, table=True):
    """The team's bank token per bank, Fernet-encrypted at rest."""

    __tablename__ = "bank_tokens"

    bank_code: str = Field(primary_key=True, max_length=16)
    token_encrypted: str = Field(sa_type=Text)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = created_at_field()


class RawApiLog(SQLModel, table=True):
    """Every bank request/response, redacted (no tokens, secrets or passwords)."""

    __tablename__ = "raw_api_logs"

    id: int | None = Field(default=None, primary_key=True)
    user_id: uuid.UUID | None = Field(default=None, index=True)
    bank_code: str = Field(max_length=16)
    method: str = Field(max_length=8)
    endpoint: str = Field(max_length=500)
    direction: str = Field(max_length=16)
    status_code: int | None = None
    body: str | None = Field(default=None, sa_type=Text)
    correlation_id: str = Field(max_length=64, index=True)
    duration_ms: int | None = None
    created_at: datetime = created_at_field()


class ConsentPublic(SQLModel):
    # Our row id (`DELETE /api/consents/{consent_row_id}`); the bank's ids are `bank_*`.
    id: uuid.UUID
    bank_code: str
    kind: ConsentKind
    bank_request_id: str
    bank_consent_id: str | None
    status: ConsentStatus
    auto_approved: bool
    permissions: list[str]
    expires_at: UtcDatetime | None
    status_reason: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def from_row(cls, row: Consent) -> ConsentPublic:
        """The row as the API shows it; the columns keep the bank's own names."""
        fields = row.model_dump(exclude={"request_id", "consent_id"})
        return cls.model_validate(
            {**fields, "bank_request_id": row.request_id, "bank_consent_id": row.consent_id}
        )


class ConnectionWarning(SQLModel):
    code: str  # e.g. agreements_unavailable
    message: str


class ConnectionPublic(SQLModel):
    bank_code: str
    status: ConnectionStatus
    step: str
    progress_pct: int
    last_error: str | None
    last_sync_at: UtcDatetime | None
    warnings: list[ConnectionWarning] = PydanticField(default_factory=list)
    consent_expires_at: UtcDatetime | None = None
    consent_expiring_soon: bool = False


BankCode = Literal["vbank", "abank", "sbank"]
assert get_args(BankCode) == BANK_CODES


def _every_bank() -> list[BankCode]:
    return ["vbank", "abank", "sbank"]


class OnboardingStart(BaseModel):
    banks: list[BankCode] = PydanticField(default_factory=_every_bank, min_length=1, max_length=10)
    allow_sandbox_sign: StrictBool = False

    @field_validator("banks")
    @classmethod
    def once_each(cls, banks: list[BankCode]) -> list[BankCode]:
        return list(dict.fromkeys(banks))


class BankConnect(BaseModel):
    allow_sandbox_sign: StrictBool = False


class OnboardingStatus(SQLModel):
    workflow_id: str
    banks: list[ConnectionPublic]


class OnboardingStarted(SQLModel):
    """Accepted: the onboarding (or one bank's connection) workflow runs in the background."""

    workflow_id: str
    banks: list[str]


class WorkflowStarted(SQLModel):
    """Accepted: the workflow runs in the background."""

    workflow_id: str


class BankPublic(SQLModel):
    bank_code: str
    name: str
    connection: ConnectionPublic


class RawApiLogPublic(SQLModel):
    id: int
    user_id: uuid.UUID | None
    bank_code: str
    method: str
    endpoint: str
    direction: str
    status_code: int | None
    body: str | None
    correlation_id: str
    duration_ms: int | None
    created_at: UtcDatetime
