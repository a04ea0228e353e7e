"""Stored analytics snapshots and the categorisation rules admins edit.

The dashboard serves snapshots, never computing in the request.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field, new_id
from models.inputs import JsonInt, when


class AnalyticsSnapshot(SQLModel, table=True):
    __tablename__ = "analytics_snapshots"
    __table_args__ = (Index("ix_analytics_snapshots_user_computed", "user_id", "computed_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id")
    as_of: datetime = Field(sa_type=UTCDateTime)
    # Every figure with its inputs, period and explanation (see analytics.snapshot).
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # The dashboard's headline figures, pre-assembled so a dashboard read parses only this.
    dashboard: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    computed_at: datetime = created_at_field()


class CategoryRuleBase(SQLModel):
    """One rule: every criterion given must hold; lowest priority wins (ties by id)."""

    priority: int = Field(ge=0, le=100_000)
    category: str = Field(min_length=1, max_length=64, regex=r"^[a-z][a-z0-9_]*$")
    bank_tx_code: str | None = Field(default=None, max_length=64)
    mcc_codes: list[str] = Field(default_factory=list, sa_type=JSON)
    merchant_category: str | None = Field(default=None, max_length=100)
    text_pattern: str | None = Field(default=None, max_length=500)
    direction: str | None = Field(default=None, max_length=8)


class CategoryRuleRow(CategoryRuleBase, table=True):
    __tablename__ = "category_rules"

    id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class CategoryRulePublic(CategoryRuleBase):
    id: str
    created_at: datetime
    updated_at: datetime


class CategoryRuleChanged(SQLModel):
    """A rule was created, changed or deleted, and stored transactions are re-categorised."""

    rule: CategoryRulePublic | None
    deleted: str | None = None
    # None when the workflow could not be started (the next snapshot applies the rules).
    recategorisation_workflow_id: str | None


Mcc = Annotated[str, PydanticField(pattern=r"^[0-9]{4}$")]
RULE_CRITERIA = ("bank_tx_code", "mcc_codes", "merchant_category", "text_pattern", "direction")


# `own_transfer` is assigned by pairing transfers, never by a rule.
NOT_RESERVED: dict[str, Any] = {"not": {"const": "own_transfer"}}


class CategoryRuleFields(BaseModel):
    # At least one criterion: a rule without any would match every transaction.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                when([name], **({"mcc_codes": {"minItems": 1}} if name == "mcc_codes" else {}))
                for name in RULE_CRITERIA
            ]
        }
    )

    priority: JsonInt = PydanticField(ge=0, le=100_000)
    category: str = PydanticField(pattern=r"^[a-z][a-z0-9_]{0,63}$", json_schema_extra=NOT_RESERVED)
    bank_tx_code: str | None = PydanticField(default=None, min_length=1, max_length=64)
    mcc_codes: list[Mcc] = PydanticField(default_factory=list, max_length=200)
    merchant_category: str | None = PydanticField(default=None, min_length=1, max_length=100)
    text_pattern: str | None = PydanticField(default=None, min_length=1, max_length=500)
    direction: Literal["credit", "debit"] | None = None


class CategoryRuleCreate(CategoryRuleFields):
    id: str | None = PydanticField(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")


class CategoryRuleUpdate(BaseModel):
    """Only the fields sent change; send null to clear a criterion."""

    priority: JsonInt | None = PydanticField(default=None, ge=0, le=100_000)
    category: str | None = PydanticField(
        default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$", json_schema_extra=NOT_RESERVED
    )
    bank_tx_code: str | None = PydanticField(default=None, min_length=1, max_length=64)
    mcc_codes: list[Mcc] | None = PydanticField(default=None, max_length=200)
    merchant_category: str | None = PydanticField(default=None, min_length=1, max_length=100)
    text_pattern: str | None = PydanticField(default=None, min_length=1, max_length=500)
    direction: Literal["credit", "debit"] | None = None
