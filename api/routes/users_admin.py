"""Administration of accounts and the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlmodel import col, select

from api.deps import CurrentAdmin, CurrentStaff, SessionDep
from models.audit import AuditEntry, AuditEntryPublic
from models.inputs import Moment
from models.users import Role, User, UserCreate, UserCreated, UserPublic
from processing import users

router = APIRouter()


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserCreated)
def create_user(body: UserCreate, session: SessionDep, _: CurrentAdmin) -> UserCreated:
    """Create a merchant, trader, support or admin account (one-time password if none given)."""
    return users.create_user(session, body=body)


@router.get("/users", response_model=list[UserPublic])
def list_users(
    session: SessionDep,
    _: CurrentStaff,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[User]:
    """Accounts, newest first, optionally of one role."""
    return users.users(session, role=role, limit=limit)


@router.post("/users/{user_id}/block", response_model=UserPublic)
def block_user(user_id: uuid.UUID, session: SessionDep, admin: CurrentAdmin) -> User:
    """Block an account: its tokens and API access stop at once."""
    return users.set_active(session, actor_id=admin.id, user_id=user_id, active=False)


@router.post("/users/{user_id}/unblock", response_model=UserPublic)
def unblock_user(user_id: uuid.UUID, session: SessionDep, admin: CurrentAdmin) -> User:
    """Unblock an account."""
    return users.set_active(session, actor_id=admin.id, user_id=user_id, active=True)


@router.get("/audit", response_model=list[AuditEntryPublic])
def audit_log(
    session: SessionDep,
    _: CurrentAdmin,
    actor_user_id: uuid.UUID | None = None,
    target_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditEntry]:
    """Who changed what and when, newest first, with the values before and after."""
    query = select(AuditEntry).order_by(col(AuditEntry.at).desc()).limit(limit)
    if actor_user_id is not None:
        query = query.where(AuditEntry.actor_user_id == actor_user_id)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    return list(session.exec(query))
