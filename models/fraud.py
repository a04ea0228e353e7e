"""Fraud rules and block lists an administrator maintains, and what screening decided."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import ConfigDict, StrictBool, model_validator
from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UtcDatetime, created_at_field, enum_type, new_id
from models.inputs import ABSENT, IP_FORMATS, JsonInt, canonical_address, when


class FraudAction(StrEnum):
    deny = "deny"  # the order fails with a reason code (and a callback)
    review = "review"  # the order waits in `on_review` for an admin's decision


class FraudRuleKind(StrEnum):
    amount = "amount"  # the order's amount is above a threshold (per store)
    velocity = "velocity"  # more than `limit` orders per key within `window_seconds`


class VelocityKey(StrEnum):
    customer_id = "customer_id"
    ip = "ip"
    recipient = "recipient"  # a pay-out's card or phone (by fingerprint)
    requisite = "requisite"  # a pay-in's requisite: over it, matching skips the requisite


class Direction(StrEnum):
    payin = "payin"
    payout = "payout"
    both = "both"


class FraudRuleFields(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    kind: FraudRuleKind = Field(sa_type=enum_type(FraudRuleKind))
    action: FraudAction = Field(sa_type=enum_type(FraudAction))
    direction: Direction = Field(default=Direction.both, sa_type=enum_type(Direction))
    # None: every store. Amount thresholds are per store (a store has one currency).
    store_id: uuid.UUID | None = Field(default=None, foreign_key="stores.id", index=True)
    amount_over_minor: int | None = Field(default=None, sa_type=BigInteger)
    velocity_key: VelocityKey | None = Field(default=None, sa_type=enum_type(VelocityKey))
    velocity_limit: int | None = None
    window_seconds: int | None = None
    is_active: bool = True


class FraudRule(FraudRuleFields, table=True):
    __tablename__ = "fraud_rules"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class FraudRuleCreate(SQLModel):
    """Amount rules need `store_id` and `amount_over_minor`; velocity rules need the key, the
    limit (orders allowed per window) and the window."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                when(
                    ["store_id", "amount_over_minor"],
                    kind={"const": "amount"},
                    velocity_key=ABSENT,
                    velocity_limit=ABSENT,
                    window_seconds=ABSENT,
                ),
                when(
                    ["velocity_key", "velocity_limit", "window_seconds"],
                    kind={"const": "velocity"},
                    amount_over_minor=ABSENT,
                ),
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    kind: FraudRuleKind
    action: FraudAction
    direction: Direction = Direction.both
    store_id: uuid.UUID | None = None
    amount_over_minor: JsonInt | None = Field(default=None, ge=1, le=10**15)
    velocity_key: VelocityKey | None = None
    velocity_limit: JsonInt | None = Field(default=None, ge=1, le=1_000_000)
    window_seconds: JsonInt | None = Field(default=None, ge=1, le=31 * 86_400)
    is_active: StrictBool = True

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind == FraudRuleKind.amount:
            if self.store_id is None or self.amount_over_minor is None:
                raise ValueError("an amount rule needs store_id and amount_over_minor")
            if self.velocity_key or self.velocity_limit or self.window_seconds:
                raise ValueError("an amount rule takes no velocity fields")
        else:
            if not (self.velocity_key and self.velocity_limit and self.window_seconds):
                raise ValueError(
                    "a velocity rule needs velocity_key, velocity_limit and window_seconds"
                )
            if self.amount_over_minor is not None:
                raise ValueError("a velocity rule takes no amount_over_minor")
        return self


class FraudRuleUpdate(SQLModel):
    """What may change on a rule: its name, action, switch and numbers (not its kind)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str | None = Field(default=None, min_length=1, max_length=100)
    action: FraudAction | None = None
    amount_over_minor: JsonInt | None = Field(default=None, ge=1, le=10**15)
    velocity_limit: JsonInt | None = Field(default=None, ge=1, le=1_000_000)
    window_seconds: JsonInt | None = Field(default=None, ge=1, le=31 * 86_400)
    is_active: StrictBool | None = None


class FraudRulePublic(FraudRuleFields):
    id: uuid.UUID
    created_at: UtcDatetime
    updated_at: UtcDatetime


class BlockKind(StrEnum):
    customer_id = "customer_id"
    ip = "ip"
    card = "card"
    phone = "phone"


class BlockListEntry(SQLModel, table=True):
    """A blocked value, kept as a keyed fingerprint (never a plain card or phone number)."""

    __tablename__ = "fraud_block_list"
    __table_args__ = (UniqueConstraint("kind", "fingerprint", name="uq_fraud_block_list_value"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: BlockKind = Field(sa_type=enum_type(BlockKind))
    fingerprint: str = Field(max_length=64)
    # What an admin sees: the customer id or address, or the last four digits of a number.
    label: str = Field(max_length=128)
    reason: str | None = Field(default=None, max_length=500)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = created_at_field()


# What a blocked card or phone looks like: its digits (at least 6) with the usual separators.
CARD, PHONE = r"^[ -]*(?:[0-9][ -]*){6,19}$", r"^[ ()-]*\+?[ ()-]*(?:[0-9][ ()-]*){6,15}$"
BLOCKED_NUMBER = {BlockKind.card: CARD, BlockKind.phone: PHONE}


class BlockListCreate(SQLModel):
    """`value` by `kind`: a customer id, an IP address (kept in its one form), or a card or
    phone number."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"properties": {"kind": {"const": "customer_id"}}},
                {"properties": {"kind": {"const": "ip"}, "value": dict(IP_FORMATS)}},
                {"properties": {"kind": {"const": "card"}, "value": {"pattern": CARD}}},
                {"properties": {"kind": {"const": "phone"}, "value": {"pattern": PHONE}}},
            ]
        },
    )

    kind: BlockKind
    value: str = Field(min_length=1, max_length=128)
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _value_of_its_kind(self) -> Self:
        if self.kind == BlockKind.ip:
            self.value = canonical_address(self.value)
        elif self.kind in BLOCKED_NUMBER and not re.fullmatch(
            BLOCKED_NUMBER[self.kind], self.value
        ):
            raise ValueError(f"not a {self.kind} number (at least 6 digits)")
        return self


class BlockListPublic(SQLModel):
    id: uuid.UUID
    kind: BlockKind
    label: str
    reason: str | None
    created_by: uuid.UUID | None
    created_at: UtcDatetime


class FraudHit(SQLModel):
    """One rule or list entry that fired for an order."""

    source: str  # "block_list" or "rule"
    id: uuid.UUID
    name: str
    action: FraudAction
