"""Every write an administrator or support user makes through the API is audited: who, which
action, which row, and each changed column before and after (secrets and hashes left out).

Admin routes mark their request's session (`audit_admin_writes`); a `before_flush` hook then
records what that session changes, in the same transaction as the change itself. Writes
that do not go through the request's session call `record` themselves.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol, TypeVar

from fastapi import Request
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from api.deps import CurrentUser, SessionDep
from core.db import session_scope
from core.errors import DomainError, Pending
from core.metrics import path_template
from core.permissions import STAFF_ROLES
from models.audit import AuditEntry

SECRET_HINTS = ("password", "secret", "hash", "encrypted", "token")


def _plain(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, Decimal, datetime, date)):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _shown(key: str) -> bool:
    return not any(hint in key for hint in SECRET_HINTS)


def _changes(session: Session, row: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(row)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if not _shown(attr.key):
            continue
        history = state.attrs[attr.key].history
        if row in session.deleted:
            before[attr.key] = _plain(getattr(row, attr.key))
        elif row in session.new:
            after[attr.key] = _plain(getattr(row, attr.key))
        elif history.has_changes():
            before[attr.key] = _plain(history.deleted[0]) if history.deleted else None
            after[attr.key] = _plain(history.added[0]) if history.added else None
    return before, after


def _target_id(row: Any) -> str:
    keys = inspect(row).mapper.primary_key
    return ",".join(str(getattr(row, column.key)) for column in keys)


@event.listens_for(Session, "before_flush")
def _audit_flush(session: Session, _context: Any, _instances: Any) -> None:
    actor = session.info.get("audit_actor")
    if actor is None:
        return
    for row in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(row, AuditEntry) or not isinstance(row, SQLModel):
            continue
        before, after = _changes(session, row)
        if not before and not after:
            continue
        session.add(
            AuditEntry(
                actor_user_id=actor,
                action=session.info["audit_action"],
                target_type=type(row).__name__,
                target_id=_target_id(row),
                before=before,
                after=after,
            )
        )


def action_of(request: Request) -> str:
    """ "METHOD /path/{template}" of the request, as the application declares the route."""
    path = request.url.path
    # The OpenAPI's templates name API routes; a page route (not in the OpenAPI) is named by
    # the route that matched it.
    route = request.scope.get("route")
    matched = getattr(route, "path", None)
    return f"{request.method} {path_template(request.app, path) or matched or path}"


async def audit_admin_writes(request: Request, session: SessionDep, user: CurrentUser) -> None:
    """Router dependency: a staff member's writes in this request are audited."""
    if request.method != "GET" and user.role.value in STAFF_ROLES:
        session.info["audit_actor"] = user.id
        session.info["audit_action"] = action_of(request)


def record(
    request: Request,
    engine: Engine,
    *,
    actor: uuid.UUID,
    target_type: str,
    target_id: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """An audit entry for a write this request made outside its own session."""
    with session_scope(engine) as session:
        session.add(
            AuditEntry(
                actor_user_id=actor,
                action=action_of(request),
                target_type=target_type,
                target_id=target_id,
                before={k: _plain(v) for k, v in before.items()},
                after={k: _plain(v) for k, v in after.items()},
            )
        )


def record_order(
    request: Request,
    engine: Engine,
    *,
    actor: uuid.UUID,
    order_id: uuid.UUID,
    before: str | None,
    after: str,
    **extra: object,
) -> None:
    """An audit entry for a staff action on an order: its status before and after (and what
    else the action carried, e.g. the actual amount and reason of a resolved dispute)."""
    record(
        request,
        engine,
        actor=actor,
        target_type="Order",
        target_id=str(order_id),
        before={"status": before},
        after={"status": after, **extra},
    )


class HasStatus(Protocol):
    @property
    def status(self) -> Enum: ...


V = TypeVar("V", bound=HasStatus)


async def audit_action(
    act: Awaitable[V],
    request: Request,
    engine: Engine,
    *,
    actor: uuid.UUID,
    order_id: uuid.UUID,
    before: str | None,
    **extra: object,
) -> V:
    """Await a staff action on an order and audit it (`record_order`) with the status it led
    to, or `pending` when its workflow has not applied it within the wait bound (the 202
    answer goes on)."""

    def audit(after: str) -> None:
        record_order(
            request, engine, actor=actor, order_id=order_id, before=before, after=after, **extra
        )

    try:
        done = await act
    except Pending:
        await asyncio.to_thread(audit, "pending")
        raise
    await asyncio.to_thread(audit, done.status.value)
    return done


class FundsRequest(HasStatus, Protocol):
    """A deposit or withdrawal as the API shows it."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def amount(self) -> str: ...
    @property
    def currency(self) -> str: ...


async def audit_request_action(
    act: Awaitable[V],
    request: Request,
    engine: Engine,
    *,
    actor: uuid.UUID,
    target_type: str,
    before: FundsRequest,
) -> V:
    """Await a staff action on a deposit or withdrawal (`before`: the request as it was) and
    audit it: the status it led to, `pending` (202), or `refused: <code>` (a refusal is a
    staff action too)."""

    def audit(after: str) -> None:
        record(
            request,
            engine,
            actor=actor,
            target_type=target_type,
            target_id=str(before.id),
            before={"status": before.status.value},
            after={"status": after, "amount": before.amount, "currency": before.currency},
        )

    try:
        done = await act
    except Pending:
        await asyncio.to_thread(audit, "pending")
        raise
    except DomainError as exc:
        await asyncio.to_thread(audit, f"refused: {exc.code}")
        raise
    await asyncio.to_thread(audit, done.status.value)
    return done
