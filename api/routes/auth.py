"""Registration, login and the current user."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool

from api.accounts import LoginRefused, check_login, register_connect_user
from api.deps import ContextDep, SessionDep, SignedInUser
from api.errors import UnauthorizedError
from api.ratelimit import RateLimited, client_ip
from api.second_factor import next_step
from core.security import create_access_token
from models.mfa import MfaChallengeIssued
from models.users import (
    LoginRequest,
    PasswordChange,
    TokenResponse,
    User,
    UserPublic,
    UserRegister,
)
from processing.accounts import users

router = APIRouter()


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def register(body: UserRegister, session: SessionDep) -> User:
    """Create a Connect user (a sandbox identity at the banks comes with the first bank)."""
    return register_connect_user(session, body=body)


@router.post(
    "/login",
    response_model=TokenResponse | MfaChallengeIssued,
    responses={401: {"description": "Wrong email or password"}},
)
async def login(
    body: LoginRequest, request: Request, ctx: ContextDep
) -> TokenResponse | MfaChallengeIssued:
    """Exchange email and password for a JWT access token (failed attempts are limited per
    email and per address: 429 with Retry-After). With a second factor the answer is
    `{"mfa_required": true, "challenge": …}` instead (send a code to `/api/auth/mfa/verify`);
    a role that requires one without it answers `{"mfa_enrolment_required": true,
    "challenge": …}` (enrol with that challenge at `/api/auth/mfa/enrol` and `/confirm`)."""
    settings = ctx.settings
    try:
        user = await check_login(
            ctx.engine,
            request.app.state.rate_limits,
            email=body.email,
            password=body.password,
            ip=client_ip(request),
        )
    except LoginRefused as exc:
        if exc.status == 401:
            raise UnauthorizedError(exc.message, code=exc.code) from exc
        raise RateLimited(exc.message, exc.retry_after_s, code=exc.code) from exc
    step = await run_in_threadpool(next_step, ctx.engine, user)
    if step is not None:
        return step
    token = create_access_token(settings, user.id, user.role.value)
    return TokenResponse(access_token=token, expires_in=settings.jwt_ttl_seconds)


@router.get("/me", response_model=UserPublic)
def me(user: SignedInUser) -> User:
    """The authenticated user (`password_change_required` says whether a one-time password
    must be replaced before anything else)."""
    return user


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: PasswordChange, session: SessionDep, user: SignedInUser) -> None:
    """Replace the password (the current one is asked again); a one-time password must be
    replaced this way before the account can do anything else."""
    users.change_password(session, user_id=user.id, body=body)
