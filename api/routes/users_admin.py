"""Administration of accounts and the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlmodel import col, select

from api.audit import record
from api.deps import AuditReader, ContextDep, CurrentStaff, SessionDep, StaffManager
from models.audit import AuditEntry, AuditEntryPublic
from models.inputs import Moment
from models.users import Role, User, UserCreate, UserCreated, UserPublic
from processing.accounts import second_factor, users

router = APIRouter()


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserCreated)
def create_user(body: UserCreate, session: SessionDep, _: StaffManager) -> UserCreated:
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
def block_user(user_id: uuid.UUID, session: SessionDep, admin: StaffManager) -> User:
    """Block an account: its tokens and API access stop at once."""
    return users.set_active(session, actor_id=admin.id, user_id=user_id, active=False)


@router.post("/users/{user_id}/unblock", response_model=UserPublic)
def unblock_user(user_id: uuid.UUID, session: SessionDep, admin: StaffManager) -> User:
    """Unblock an account."""
    return users.set_active(session, actor_id=admin.id, user_id=user_id, active=True)


@router.post("/users/{user_id}/mfa/reset", response_model=UserPublic)
def reset_second_factor(
    user_id: uuid.UUID, request: Request, ctx: ContextDep, session: SessionDep, admin: StaffManager
) -> User:
    """Remove another user's second factor and recovery codes (lost phone): they enrol again
    at their next sign-in when their role requires it. Never your own (409 `mfa_reset_self`).
    Audited."""
    user = second_factor.reset(session, actor_id=admin.id, user_id=user_id)
    record(
        request, ctx.engine, actor=admin.id, target_type="User", target_id=str(user_id),
        before={}, after={"second_factor": "reset"},
    )  # fmt: skip
    return user


@router.get("/audit", response_model=list[AuditEntryPublic])
def audit_log(
    session: SessionDep,
    _: AuditReader,
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
