"""Sign-up and sign-in, shared by the JSON API and the web pages (one copy of each rule)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.ratelimit import RateLimits
from core.security import verify_password
from models.base import utcnow
from models.users import Role, User, UserRegister
from processing.accounts.users import add_account


class LoginRefused(Exception):
    """Wrong credentials (401) or too many failed attempts (429, with the seconds to wait)."""

    def __init__(self, message: str, code: str, status: int, retry_after_s: int = 0) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status
        self.retry_after_s = retry_after_s


def _credentials_user(engine: Engine, email: str, password: str) -> User | None:
    with Session(engine, expire_on_commit=False) as session:
        user = session.exec(select(User).where(User.email == email)).first()
    valid = verify_password(password, user.password_hash if user else None)
    return user if user is not None and valid and user.is_active else None


async def check_login(
    engine: Engine, limits: RateLimits, *, email: str, password: str, ip: str
) -> User:
    """The active user with these credentials; failed attempts are throttled."""
    email = email.lower()
    wait = await limits.login_wait(email, ip)
    if wait is not None:
        message = f"Too many failed logins; try again in {wait} s"
        raise LoginRefused(message, "too_many_attempts", 429, wait)
    user = await run_in_threadpool(_credentials_user, engine, email, password)
    if user is None:
        await limits.login_failed(email, ip)
        raise LoginRefused("Wrong email or password", "invalid_credentials", 401)
    await run_in_threadpool(record_login, engine, user)
    return user


def record_login(engine: Engine, user: User) -> None:
    """This sign-in's time; the one before it moves to `previous_login_at` (the profile's
    "last sign-in")."""
    now = utcnow()
    with Session(engine) as session:
        session.execute(
            update(User)
            .where(col(User.id) == user.id)
            .values(previous_login_at=User.last_login_at, last_login_at=now)
        )
        session.commit()
    user.previous_login_at, user.last_login_at = user.last_login_at, now


def register_connect_user(session: Session, *, body: UserRegister) -> User:
    """A Connect user; a sandbox identity at the banks is assigned on first bank connection."""
    return add_account(
        session,
        email=body.email,
        password=body.password,
        role=Role.connect_user,
        full_name=body.full_name,
    )
