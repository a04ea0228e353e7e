"""The audit log: who changed what, when, with the values before and after."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from models.base import UtcDatetime, created_at_field, new_id


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    actor_user_id: uuid.UUID = Field(index=True)
    action: str = Field(max_length=200)  # e.g. "PATCH /api/admin/traders/{trader_id}"
    target_type: str = Field(max_length=64)
    target_id: str = Field(max_length=200)
    before: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    after: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = created_at_field()


class AuditEntryPublic(SQLModel):
    id: uuid.UUID
    actor_user_id: uuid.UUID
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any]
    after: dict[str, Any]
    at: UtcDatetime
