"""The sign-in's second step, shared by the JSON API and the web pages (one copy of each
rule): after the right password a user with a second factor gets a challenge, not a session;
a user whose role requires one and has none gets an enrolment challenge. A wrong code counts
towards the login lockout as a wrong password does."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.accounts import LoginRefused
from api.ratelimit import RateLimits
from core.security import SecretBox
from models.mfa import ChallengePurpose, MfaChallengeIssued, MfaVerify
from models.users import User
from processing.accounts import second_factor
from processing.accounts.second_factor import CHALLENGE_TTL, MfaRefused


def next_step(engine: Engine, user: User) -> MfaChallengeIssued | None:
    """None when the password is enough; otherwise the challenge for the step to take."""
    with Session(engine, expire_on_commit=False) as session:
        if second_factor.is_enabled(session, user.id):
            purpose = ChallengePurpose.verify
        elif second_factor.is_required(user.role.value):
            purpose = ChallengePurpose.enrol
        else:
            return None
        token = second_factor.issue_challenge(session, user.id, purpose)
    return MfaChallengeIssued(
        mfa_required=purpose == ChallengePurpose.verify,
        mfa_enrolment_required=purpose == ChallengePurpose.enrol,
        challenge=token,
        expires_in=int(CHALLENGE_TTL.total_seconds()),
    )


def challenged_user(engine: Engine, token: str, purpose: ChallengePurpose) -> User:
    with Session(engine, expire_on_commit=False) as session:
        challenge = second_factor.read_challenge(session, token, purpose)
        user = session.get(User, challenge.user_id)
    if user is None or not user.is_active:
        raise MfaRefused("Sign in again", "mfa_challenge_invalid")
    return user


def _check(engine: Engine, box: SecretBox, body: MfaVerify) -> User:
    with Session(engine, expire_on_commit=False) as session:
        challenge = second_factor.read_challenge(session, body.challenge, ChallengePurpose.verify)
        if body.code:
            second_factor.check_code(session, box, challenge.user_id, body.code)
        elif body.recovery_code:
            second_factor.use_recovery_code(session, challenge.user_id, body.recovery_code)
        else:
            raise MfaRefused("Send the code or a recovery code", "mfa_code_invalid")
        second_factor.spend_challenge(session, challenge)
        user = session.get(User, challenge.user_id)
    if user is None or not user.is_active:
        raise MfaRefused("Sign in again", "mfa_challenge_invalid")
    return user


async def verify(
    engine: Engine, limits: RateLimits, box: SecretBox, *, body: MfaVerify, ip: str
) -> User:
    """The user the challenge was for, once its code (or a recovery code) is right; 429 while
    the login is locked out, and a wrong code is one more failed attempt."""
    owner = await run_in_threadpool(
        challenged_user, engine, body.challenge, ChallengePurpose.verify
    )
    wait = await limits.login_wait(owner.email, ip)
    if wait is not None:
        message = f"Too many failed logins; try again in {wait} s"
        raise LoginRefused(message, "too_many_attempts", 429, wait)
    try:
        return await run_in_threadpool(_check, engine, box, body)
    except MfaRefused as exc:
        if exc.code == "mfa_code_invalid":
            await limits.login_failed(owner.email, ip)
        raise
