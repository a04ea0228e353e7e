"""Registration, login and the current user."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.errors import AppError, ConflictError, UnauthorizedError
from api.ratelimit import LoginThrottle
from core.security import create_access_token, hash_password, verify_password
from models.users import LoginRequest, Role, TokenResponse, User, UserPublic, UserRegister

router = APIRouter()

# The sandbox banks know ten end users per team: teamNNN-1 … teamNNN-10.
SANDBOX_USERS_PER_TEAM = 10


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def register(body: UserRegister, session: SessionDep, settings: SettingsDep) -> User:
    """Create a Connect user, mapped to one of the banks' sandbox end users."""
    email = body.email.lower()
    if session.exec(select(User.id).where(User.email == email)).first():
        raise ConflictError("Email is already registered", code="email_taken")
    connect_users = session.exec(
        select(func.count()).select_from(User).where(User.role == Role.connect_user)
    ).one()
    slot = connect_users % SANDBOX_USERS_PER_TEAM + 1
    user = User(
        email=email,
        full_name=body.full_name,
        password_hash=hash_password(body.password),
        role=Role.connect_user,
        external_client_id=f"{settings.bank_client_id}-{slot}",
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError("Email is already registered", code="email_taken") from exc
    session.refresh(user)
    return user


@router.post("/login", response_model=TokenResponse)
def login(
    body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenResponse:
    """Exchange email and password for a JWT access token."""
    email, ip = body.email.lower(), request.client.host if request.client else "-"
    throttle: LoginThrottle = request.app.state.login_throttle
    if not throttle.allowed(email, ip):
        raise AppError(
            "Too many failed logins; try again later", code="too_many_attempts", status_code=429
        )
    user = session.exec(select(User).where(User.email == email)).first()
    valid = verify_password(body.password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        throttle.failed(email, ip)
        raise UnauthorizedError("Wrong email or password", code="invalid_credentials")
    token = create_access_token(settings, user.id, user.role.value)
    return TokenResponse(access_token=token, expires_in=settings.jwt_ttl_seconds)


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> User:
    """The authenticated user."""
    return user
