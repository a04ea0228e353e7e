"""Users, roles and the auth schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import EmailStr
from sqlmodel import Field, SQLModel

from models.base import UtcDatetime, created_at_field, enum_type, new_id


class Role(StrEnum):
    admin = "admin"
    support = "support"
    merchant = "merchant"
    trader = "trader"
    connect_user = "connect_user"


class UserBase(SQLModel):
    email: str = Field(max_length=254, unique=True, index=True)
    full_name: str | None = Field(default=None, max_length=200)


class User(UserBase, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=enum_type(Role), index=True)
    is_active: bool = True
    # Connect users are mapped to one of the sandbox banks' end users (teamNNN-k).
    external_client_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = created_at_field()


class UserRegister(SQLModel):
    email: EmailStr
    password: str = Field(min_length=10, max_length=128)
    full_name: str | None = Field(default=None, max_length=200)


class LoginRequest(SQLModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)


class UserPublic(SQLModel):
    id: uuid.UUID
    email: str
    full_name: str | None
    role: Role
    is_active: bool
    external_client_id: str | None
    created_at: UtcDatetime


class TokenResponse(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
