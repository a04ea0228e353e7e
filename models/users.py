"""Users, roles and the auth schemas."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import EmailStr, field_validator
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, UtcDatetime, created_at_field, enum_type, new_id


class Role(StrEnum):
    admin = "admin"
    support = "support"
    teamlead = "teamlead"
    finance = "finance"
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
    # Set when an administrator created the account with a generated one-time password: the
    # account can do nothing but change it (POST /api/auth/password) until then.
    password_change_required: bool = False
    created_at: datetime = created_at_field()
    # The person's own phone number (international format), shown on their profile.
    phone: str | None = Field(default=None, max_length=20)
    # This sign-in and the one before it (the profile shows the one before: "was it me?").
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    previous_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SandboxIdentity(SQLModel, table=True):
    """One of the banks' sandbox end users (`teamNNN-1..10` per team), held by at most one of
    our users: the bank shows the holder's data to whoever presents this identity."""

    __tablename__ = "sandbox_identities"

    external_client_id: str = Field(primary_key=True, max_length=64)
    team: str = Field(max_length=32, index=True)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", unique=True)
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class SandboxIdentityPublic(SQLModel):
    external_client_id: str
    team: str
    user_id: uuid.UUID | None
    assigned_at: UtcDatetime | None


class IdentityAssign(SQLModel):
    user_id: uuid.UUID


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
    password_change_required: bool = False
    created_at: UtcDatetime


# "+" and 10–15 digits, the first not 0; spaces and dashes between are dropped.
PHONE_DIGITS = re.compile(r"^\+[1-9][0-9]{9,14}$")


class PhoneChange(SQLModel):
    """A person's own phone number, or none (an empty field removes it)."""

    phone: str | None = Field(default=None, max_length=40)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        compact = re.sub(r"[ ()-]", "", value)
        if not PHONE_DIGITS.match(compact):
            raise ValueError("phone_format")
        return compact


class PasswordChange(SQLModel):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=10, max_length=128)


class TokenResponse(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class StaffRole(StrEnum):
    """Accounts an administrator creates (Connect users sign up themselves)."""

    admin = "admin"
    support = "support"
    teamlead = "teamlead"
    finance = "finance"
    merchant = "merchant"
    trader = "trader"


class UserCreate(SQLModel):
    """A new account; without `password` a one-time password is generated and shown once."""

    email: EmailStr
    role: StaffRole
    full_name: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, min_length=10, max_length=128)
    # For merchants: the merchant's display name (defaults to the email).
    merchant_name: str | None = Field(default=None, min_length=1, max_length=200)


class UserCreated(UserPublic):
    # Set only when the server generated it: give it to the user, it is not shown again.
    one_time_password: str | None = None
