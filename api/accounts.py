"""Sign-up and sign-in, shared by the JSON API and the web pages (one copy of each rule)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.ratelimit import LoginThrottle
from core.errors import Conflict
from core.security import hash_password, verify_password
from models.users import Role, User, UserRegister


class LoginRefused(Exception):
    """Wrong credentials (401) or too many failed attempts (429)."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def check_login(
    session: Session, throttle: LoginThrottle, *, email: str, password: str, ip: str
) -> User:
    """The active user with these credentials; failed attempts are throttled."""
    email = email.lower()
    if not throttle.allowed(email, ip):
        raise LoginRefused("Too many failed logins; try again later", "too_many_attempts", 429)
    user = session.exec(select(User).where(User.email == email)).first()
    valid = verify_password(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        throttle.failed(email, ip)
        raise LoginRefused("Wrong email or password", "invalid_credentials", 401)
    return user


def register_connect_user(session: Session, *, body: UserRegister) -> User:
    """A Connect user; a sandbox identity at the banks is assigned on first bank connection."""
    email = body.email.lower()
    if session.exec(select(User.id).where(User.email == email)).first():
        raise Conflict("Email is already registered", code="email_taken")
    user = User(
        email=email,
        full_name=body.full_name,
        password_hash=hash_password(body.password),
        role=Role.connect_user,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("Email is already registered", code="email_taken") from exc
    session.refresh(user)
    return user
