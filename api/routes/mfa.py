"""Two-factor sign-in (TOTP): enrolment with a QR code, the login's second step, recovery
codes, turning it off. See docs/operations.md, "Two-factor sign-in"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, Security, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from api import second_factor as sign_in
from api.accounts import LoginRefused
from api.deps import ContextDep, CurrentUser, SessionDep, bearer, get_signed_in_user
from api.errors import UnauthorizedError
from api.ratelimit import RateLimited, client_ip, platform_of
from core.context import ServiceContext
from core.security import create_access_token
from models.mfa import (
    ChallengePurpose,
    MfaChallengeRef,
    MfaCode,
    MfaConfirm,
    MfaConfirmed,
    MfaEnrolment,
    MfaStatus,
    MfaVerify,
)
from models.users import TokenResponse, User
from processing.accounts import second_factor
from processing.accounts.second_factor import MfaRefused

router = APIRouter()
# Answered without a bearer too (a challenge), so declared here rather than by security.
REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Wrong, reused or expired code or challenge"}
}
NO_STORE = {"Cache-Control": "no-store"}
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def _refused(exc: MfaRefused) -> UnauthorizedError:
    return UnauthorizedError(exc.message, code=exc.code)


async def _enrolling(
    request: Request, ctx: ServiceContext, session: SessionDep, challenge: str | None, creds: Bearer
) -> User:
    """Who enrols: the holder of the login's enrolment challenge, or a signed-in user."""
    if challenge:
        try:
            return await run_in_threadpool(
                sign_in.challenged_user, ctx.engine, challenge, ChallengePurpose.enrol
            )
        except MfaRefused as exc:
            raise _refused(exc) from exc
    rates = await platform_of(request)
    return await get_signed_in_user(request, session, ctx.settings, rates, creds)


@router.get("", response_model=MfaStatus)
def mfa_status(session: SessionDep, user: CurrentUser) -> MfaStatus:
    """Whether my second factor is on, whether my role requires it, recovery codes left."""
    return second_factor.status(session, user)


@router.post("/enrol", response_model=MfaEnrolment, responses=REFUSED)
async def enrol(
    request: Request,
    response: Response,
    ctx: ContextDep,
    session: SessionDep,
    creds: Bearer,
    body: MfaChallengeRef | None = None,
) -> MfaEnrolment:
    """Start (or restart) enrolment: a new secret, its `otpauth://` URI and QR code (SVG data
    URI), shown this once; a first code to `/confirm` turns it on. With the login's enrolment
    challenge, or a bearer session."""
    user = await _enrolling(request, ctx, session, body.challenge if body else None, creds)
    response.headers.update(NO_STORE)
    return await run_in_threadpool(second_factor.begin_enrolment, session, ctx.secrets, user)


@router.post("/confirm", response_model=MfaConfirmed, responses=REFUSED)
async def confirm(
    request: Request, response: Response, ctx: ContextDep, session: SessionDep, creds: Bearer,
    body: MfaConfirm,
) -> MfaConfirmed:  # fmt: skip
    """A first code turns the second factor on: the answer holds 10 recovery codes (each
    signs in once; shown this once) and, after an enrolment challenge, the session token."""
    user = await _enrolling(request, ctx, session, body.challenge, creds)
    try:
        codes = await run_in_threadpool(
            second_factor.confirm_with, session, ctx.secrets, user.id, body.code, body.challenge
        )
    except MfaRefused as exc:
        raise _refused(exc) from exc
    response.headers.update(NO_STORE)
    if not body.challenge:
        return MfaConfirmed(recovery_codes=codes)
    token = create_access_token(ctx.settings, user.id, user.role.value)
    return MfaConfirmed(
        recovery_codes=codes, access_token=token, expires_in=ctx.settings.jwt_ttl_seconds
    )


@router.post("/verify", response_model=TokenResponse, responses=REFUSED)
async def verify(body: MfaVerify, request: Request, ctx: ContextDep) -> TokenResponse:
    """The login's second step: the challenge and the current code (or a recovery code) →
    the session token. A code is good once (401 `mfa_code_reused`); a wrong one (401
    `mfa_code_invalid`) counts towards the login lockout; an expired or used challenge is 401
    `mfa_challenge_invalid`."""
    limits = request.app.state.rate_limits
    try:
        user = await sign_in.verify(
            ctx.engine, limits, ctx.secrets, body=body, ip=client_ip(request)
        )
    except MfaRefused as exc:
        raise _refused(exc) from exc
    except LoginRefused as exc:
        raise RateLimited(exc.message, exc.retry_after_s, code=exc.code) from exc
    token = create_access_token(ctx.settings, user.id, user.role.value)
    return TokenResponse(access_token=token, expires_in=ctx.settings.jwt_ttl_seconds)


@router.post("/disable", status_code=status.HTTP_204_NO_CONTENT)
def disable(body: MfaCode, ctx: ContextDep, session: SessionDep, user: CurrentUser) -> None:
    """Turn my second factor off with a current code (403 `mfa_required_for_role` for admin,
    finance and team leads: an administrator resets theirs)."""
    try:
        second_factor.disable(session, ctx.secrets, user, body.code)
    except MfaRefused as exc:
        raise _refused(exc) from exc
