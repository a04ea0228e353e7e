"""Second factors (TOTP, RFC 6238), their recovery codes, and the sign-in challenges that
stand between a right password and a session."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import BigInteger, Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field, enum_type, new_id


class SecondFactor(SQLModel, table=True):
    """A user's TOTP secret, Fernet-encrypted at rest; active once a first code confirmed it."""

    __tablename__ = "second_factors"

    user_id: uuid.UUID = Field(primary_key=True, foreign_key="users.id")
    secret_encrypted: str = Field(sa_type=Text)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last 30-second time step a code was accepted for: a code is good once (replay → 401).
    last_used_step: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = created_at_field()


class RecoveryCode(SQLModel, table=True):
    """One of a user's one-time recovery codes, hashed like a password."""

    __tablename__ = "recovery_codes"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    code_hash: str = Field(max_length=255)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class ChallengePurpose(StrEnum):
    verify = "verify"  # the password was right; a code finishes the sign-in
    enrol = "enrol"  # the password was right; the role needs a second factor set up first


class MfaChallenge(SQLModel, table=True):
    """A short-lived, single-use sign-in challenge; only its SHA-256 is stored."""

    __tablename__ = "mfa_challenges"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    purpose: ChallengePurpose = Field(sa_type=enum_type(ChallengePurpose))
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


# -- API schemas ---------------------------------------------------------------------------
# The six digits an authenticator app shows.
TotpCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$", min_length=6, max_length=6)]


class MfaChallengeIssued(SQLModel):
    """The password was right; the session token needs a second step."""

    mfa_required: bool = False  # send a code to POST /api/auth/mfa/verify
    mfa_enrolment_required: bool = False  # set up a second factor first (enrol, confirm)
    challenge: str
    expires_in: int


class MfaChallengeRef(SQLModel):
    """An enrolment challenge from the login; without one, a bearer session is needed."""

    challenge: str | None = Field(default=None, min_length=16, max_length=128)


class MfaEnrolment(SQLModel):
    secret: str  # shown this once
    otpauth_uri: str
    qr_svg: str  # a data URI of the otpauth URI's QR code


class MfaConfirm(MfaChallengeRef):
    code: TotpCode


class MfaConfirmed(SQLModel):
    recovery_codes: list[str]  # shown this once; each signs in once
    # After an enrolment challenge: the session the login was waiting for.
    access_token: str | None = None
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int | None = None


class MfaVerify(SQLModel):
    """A challenge and either the current code or one recovery code."""

    challenge: str = Field(min_length=16, max_length=128)
    code: TotpCode | None = None
    recovery_code: str | None = Field(default=None, min_length=8, max_length=32)


class MfaCode(SQLModel):
    code: TotpCode


class MfaStatus(SQLModel):
    enabled: bool
    required: bool
    recovery_codes_left: int
