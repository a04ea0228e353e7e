"""Second factors (TOTP, RFC 6238, with pyotp): enrolment with a QR code, codes good once,
one-time recovery codes, the sign-in challenges, and an administrator's reset.

The secret is Fernet-encrypted at rest (as bank tokens are) and shown once, at enrolment;
recovery codes are hashed like passwords."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy import delete, update
from sqlmodel import Session, col, func, select

from core.errors import Conflict, NotAllowed, NotFound
from core.permissions import MFA_REQUIRED_ROLES
from core.security import SecretBox, hash_password, verify_password
from models.base import utcnow
from models.mfa import (
    ChallengePurpose,
    MfaChallenge,
    MfaEnrolment,
    MfaStatus,
    RecoveryCode,
    SecondFactor,
)
from models.users import User

ISSUER = "JivaPay"
RECOVERY_CODES = 10
CHALLENGE_TTL = timedelta(minutes=5)
# Codes of the previous and the next 30-second step are taken too (clock drift).
DRIFT_STEPS = 1
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


class MfaRefused(Exception):
    """A wrong, reused or expired code or challenge (the API answers 401 with `code`)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def is_required(role: str) -> bool:
    return role in MFA_REQUIRED_ROLES


def _factor(session: Session, user_id: uuid.UUID) -> SecondFactor | None:
    return session.get(SecondFactor, user_id)


def is_enabled(session: Session, user_id: uuid.UUID) -> bool:
    factor = _factor(session, user_id)
    return factor is not None and factor.confirmed_at is not None


def status(session: Session, user: User) -> MfaStatus:
    left = session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None))
    ).one()
    return MfaStatus(
        enabled=is_enabled(session, user.id),
        required=is_required(user.role.value),
        recovery_codes_left=left,
    )


def begin_enrolment(session: Session, box: SecretBox, user: User) -> MfaEnrolment:
    """A new secret (replacing an unconfirmed one), shown this once with its QR code."""
    factor = _factor(session, user.id)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict("A second factor is already set up", code="mfa_already_enabled")
    secret = pyotp.random_base32()
    if factor is None:
        factor = SecondFactor(user_id=user.id, secret_encrypted=box.encrypt(secret))
    factor.secret_encrypted, factor.last_used_step = box.encrypt(secret), None
    session.add(factor)
    session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return MfaEnrolment(secret=secret, otpauth_uri=uri, qr_svg=segno.make(uri).svg_data_uri())


def confirm_enrolment(session: Session, box: SecretBox, user_id: uuid.UUID, code: str) -> list[str]:
    """A first code activates the factor; the answer is the recovery codes, shown once."""
    factor = _factor(session, user_id)
    if factor is None:
        raise Conflict("Start the enrolment first", code="mfa_not_enrolling")
    if factor.confirmed_at is not None:
        raise Conflict("A second factor is already set up", code="mfa_already_enabled")
    check_code(session, box, user_id, code)
    factor = session.get(SecondFactor, user_id, populate_existing=True)
    assert factor is not None
    factor.confirmed_at = utcnow()
    session.add(factor)
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    session.add_all(RecoveryCode(user_id=user_id, code_hash=hash_password(c)) for c in codes)
    session.commit()
    return codes


def confirm_with(
    session: Session, box: SecretBox, user_id: uuid.UUID, code: str, challenge: str | None
) -> list[str]:
    """`confirm_enrolment`, spending the login's enrolment challenge when there is one."""
    codes = confirm_enrolment(session, box, user_id, code)
    if challenge:
        spend_challenge(session, read_challenge(session, challenge, ChallengePurpose.enrol))
    return codes


def _recovery_code() -> str:
    # 16 base32 characters: 80 bits, grouped by four to be read off paper.
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}-{raw[12:]}"


def _normalised(code: str) -> str:
    raw = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}-{raw[12:]}"


def check_code(
    session: Session, box: SecretBox, user_id: uuid.UUID, code: str, at: datetime | None = None
) -> None:
    """Accept a code once: the time step it belongs to must be later than the last one used,
    recorded by a guarded UPDATE so two requests with one code cannot both pass."""
    factor = _factor(session, user_id)
    if factor is None:
        raise MfaRefused("No second factor is set up", "mfa_not_enabled")
    totp = pyotp.TOTP(box.decrypt(factor.secret_encrypted))
    now_step = totp.timecode(at or utcnow())
    steps = range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1)
    matched = [s for s in steps if secrets.compare_digest(totp.generate_otp(s), code)]
    if not matched:
        raise MfaRefused("Wrong code", "mfa_code_invalid")
    step = matched[-1]
    used = session.execute(
        update(SecondFactor)
        .where(col(SecondFactor.user_id) == user_id)
        .where(
            col(SecondFactor.last_used_step).is_(None) | (col(SecondFactor.last_used_step) < step)
        )
        .values(last_used_step=step)
    )
    session.commit()
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise MfaRefused("This code was used already; wait for the next one", "mfa_code_reused")


def use_recovery_code(session: Session, user_id: uuid.UUID, code: str) -> None:
    """Spend one unused recovery code (a guarded UPDATE: once, even under a race)."""
    wanted = _normalised(code)
    unused = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None)
        )
    ).all()
    for row in unused:
        if verify_password(wanted, row.code_hash):
            spent = session.execute(
                update(RecoveryCode)
                .where(col(RecoveryCode.id) == row.id, col(RecoveryCode.used_at).is_(None))
                .values(used_at=utcnow())
            )
            session.commit()
            if spent.rowcount == 1:  # type: ignore[attr-defined]
                return
    raise MfaRefused("Wrong or used recovery code", "mfa_code_invalid")


def _token_hash(token: str) -> str:
    # Challenges carry 256 bits of entropy: a fast hash is enough (as for API keys).
    return hashlib.sha256(token.encode()).hexdigest()


def issue_challenge(session: Session, user_id: uuid.UUID, purpose: ChallengePurpose) -> str:
    token = secrets.token_urlsafe(32)
    # This user's spent and expired challenges go: the table holds live ones only.
    session.execute(
        delete(MfaChallenge).where(
            col(MfaChallenge.user_id) == user_id,
            col(MfaChallenge.used_at).is_not(None) | (col(MfaChallenge.expires_at) < utcnow()),
        )
    )
    session.add(
        MfaChallenge(
            token_hash=_token_hash(token),
            user_id=user_id,
            purpose=purpose,
            expires_at=utcnow() + CHALLENGE_TTL,
        )
    )
    session.commit()
    return token


def read_challenge(session: Session, token: str, purpose: ChallengePurpose) -> MfaChallenge:
    """The live challenge behind `token` (unknown, used, expired or for another step: 401)."""
    found = session.exec(
        select(MfaChallenge).where(MfaChallenge.token_hash == _token_hash(token))
    ).first()
    if (
        found is None
        or found.purpose != purpose
        or found.used_at is not None
        or found.expires_at <= utcnow()
    ):
        raise MfaRefused(
            "Sign in again: the challenge expired or was used", "mfa_challenge_invalid"
        )
    return found


def spend_challenge(session: Session, challenge: MfaChallenge) -> None:
    spent = session.execute(
        update(MfaChallenge)
        .where(col(MfaChallenge.id) == challenge.id, col(MfaChallenge.used_at).is_(None))
        .values(used_at=utcnow())
    )
    session.commit()
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise MfaRefused(
            "Sign in again: the challenge expired or was used", "mfa_challenge_invalid"
        )


def _remove(session: Session, user_id: uuid.UUID) -> None:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    session.execute(delete(SecondFactor).where(col(SecondFactor.user_id) == user_id))
    session.commit()


def disable(session: Session, box: SecretBox, user: User, code: str) -> None:
    """Turn my own second factor off with a current code (not for roles that require it)."""
    if is_required(user.role.value):
        raise NotAllowed(
            "Your role signs in with a second factor; an administrator can reset it",
            code="mfa_required_for_role",
        )
    if not is_enabled(session, user.id):
        raise Conflict("No second factor is set up", code="mfa_not_enabled")
    check_code(session, box, user.id, code)
    _remove(session, user.id)


def reset(session: Session, *, actor_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """An administrator removes another user's second factor (they enrol again); never
    their own, so a stolen admin session cannot strip its own account's protection."""
    if actor_id == user_id:
        raise Conflict("You cannot reset your own second factor", code="mfa_reset_self")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    _remove(session, user_id)
    return user
