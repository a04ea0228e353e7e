"""Accounts an administrator manages: merchants (with their merchant record), traders (with
their trader profile), support and admin users; blocking and unblocking any account."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.errors import Conflict, Invalid, NotFound
from core.security import hash_password, verify_password
from models.merchants import Merchant
from models.traders import Trader
from models.users import (
    PasswordChange,
    PhoneChange,
    Role,
    User,
    UserCreate,
    UserCreated,
    UserPublic,
)


def add_account(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    full_name: str | None,
    merchant_name: str | None = None,
    change_required: bool = False,
) -> User:
    """A new user (plus the merchant record or trader profile its role needs), committed;
    409 email_taken when the email is registered, also when two requests race."""
    email = email.lower()
    if session.exec(select(User.id).where(User.email == email)).first():
        raise Conflict("Email is already registered", code="email_taken")
    user = User(
        email=email,
        full_name=full_name,
        password_hash=hash_password(password),
        role=role,
        password_change_required=change_required,
    )
    session.add(user)
    session.flush()
    if role == Role.merchant:
        session.add(Merchant(owner_user_id=user.id, name=merchant_name or full_name or email))
    elif role == Role.trader:
        session.add(Trader(user_id=user.id))
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("Email is already registered", code="email_taken") from exc
    session.refresh(user)
    return user


def create_user(session: Session, *, body: UserCreate) -> UserCreated:
    """The account and what its role needs; a generated one-time password is returned once."""
    generated = None if body.password else secrets.token_urlsafe(12)
    password = body.password or generated
    assert password is not None
    user = add_account(
        session,
        email=body.email,
        password=password,
        role=Role(body.role.value),
        full_name=body.full_name,
        merchant_name=body.merchant_name,
        change_required=generated is not None,
    )
    public = UserPublic.model_validate(user)
    return UserCreated(**public.model_dump(), one_time_password=generated)


def users(session: Session, *, role: Role | None, limit: int) -> list[User]:
    query = select(User).order_by(col(User.created_at).desc()).limit(limit)
    if role is not None:
        query = query.where(User.role == role)
    return list(session.exec(query))


def set_active(session: Session, *, actor_id: uuid.UUID, user_id: uuid.UUID, active: bool) -> User:
    """Block or unblock an account: a blocked user's tokens stop working at once."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found", code="user_not_found")
    if user.id == actor_id and not active:
        raise Invalid("An administrator cannot block themselves", code="cannot_block_self")
    user.is_active = active
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def change_password(session: Session, *, user_id: uuid.UUID, body: PasswordChange) -> None:
    """A new password for this user (the current one must be right, the new one differ)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found", code="user_not_found")
    if not verify_password(body.current_password, user.password_hash):
        raise Invalid("The current password is wrong", code="wrong_current_password")
    if body.new_password == body.current_password:
        raise Invalid(
            "The new password must differ from the current one", code="password_unchanged"
        )
    user.password_hash = hash_password(body.new_password)
    user.password_change_required = False
    session.add(user)
    session.commit()


def set_phone(session: Session, *, user_id: uuid.UUID, body: PhoneChange) -> User:
    """The person's own phone number (None removes it)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found", code="user_not_found")
    user.phone = body.phone
    session.add(user)
    session.commit()
    session.refresh(user)
    return user
