"""The minimal admin (`/admin`) for staff. Same services and permissions as `/api/admin`
(`core.permissions`): every staff role reads; support resolves disputes, only an admin
manages requisites and accounts. Staff writes are audited as
the API audits them (the session hook for rows written here, `record` for workflow-made
changes)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.audit import action_of, audit_action
from api.pages import admin_orders, admin_staff, once
from api.pages.forms import field_errors
from api.pages.render import QUEUED, back, page
from api.pages.session import PageStaff, page_allowed
from core.errors import DomainError, Pending
from core.permissions import Permission, allows
from models.payouts import DisputeResolve
from models.traders import RequisiteStatus
from models.users import Role, StaffRole, User, UserCreate, UserCreated
from processing.accounts import admin, users
from processing.orders import disputes
from processing.views import requisite_public

router = APIRouter(include_in_schema=False)
# Orders, flagged pay-ins and statement credits: read-only pages of their own module.
router.include_router(admin_orders.router)
# The audit log, the platform settings and an order's files.
router.include_router(admin_staff.router)
DisputeHandler = Annotated[User, Depends(page_allowed(Permission.disputes_handle))]
AccountManager = Annotated[User, Depends(page_allowed(Permission.accounts_manage))]
StaffManager = Annotated[User, Depends(page_allowed(Permission.staff_manage))]
REQUISITE_FILTERS = [s.value for s in RequisiteStatus]
USER_LIMIT = 200
USERS = "/admin/users"
ROLES = [r.value for r in Role]


def audited(request: Request, user: User) -> Session:
    """A session whose writes are audited as `/api/admin` audits them."""
    session = Session(request.app.state.ctx.engine, expire_on_commit=False)
    session.info["audit_actor"] = user.id
    session.info["audit_action"] = action_of(request)
    return session


def _can(user: User, permission: Permission) -> bool:
    return allows(user.role.value, permission)


@router.get("/admin", response_class=HTMLResponse)
async def home(request: Request, user: PageStaff) -> HTMLResponse:
    """Links and counts: open and escalated disputes, requisites to approve, flagged orders."""
    ctx = request.app.state.ctx

    def counts() -> dict[str, int]:
        with Session(ctx.engine) as session:
            # Counted in the database, never loaded: the page stays as fast with a year of
            # orders (and a backlog of disputes) as with a day's.
            return disputes.open_counts(session) | {
                "pending": admin.requisites_count(session, status=RequisiteStatus.pending),
                "flagged": admin_orders.flagged_count(session),
            }

    return page(
        request,
        "admin/home.html",
        user,
        counts=await run_in_threadpool(counts),
        flags=admin_orders.FLAGS,
    )


async def _disputes_page(
    request: Request, user: User, escalated: bool = False, status_code: int = 200, **shown: Any
) -> HTMLResponse:
    ctx = request.app.state.ctx

    def read() -> list[Any]:
        with Session(ctx.engine) as session:
            return list(disputes.queue(session, escalated_only=escalated))

    return page(
        request,
        "admin/disputes.html",
        user,
        status_code=status_code,
        queue=await run_in_threadpool(read),
        escalated=escalated,
        can_write=_can(user, Permission.disputes_handle),
        **shown,
    )


@router.get("/admin/disputes", response_class=HTMLResponse)
async def dispute_queue(request: Request, user: PageStaff, escalated: bool = False) -> HTMLResponse:
    """Open disputes of both kinds, oldest first, as `GET /api/admin/disputes`."""
    return await _disputes_page(request, user, escalated)


# A resolution the service refuses, in plain words next to the field it is about.
RESOLVE_REFUSALS = {
    "actual_amount_out_of_range": "Enter an amount above zero, at most the order's amount.",
    "invalid_amount": "Enter an amount like 1000.00, in the order's currency.",
}


@router.post("/admin/disputes/{order_id}/resolve")
async def resolve(
    request: Request,
    user: DisputeHandler,
    order_id: uuid.UUID,
    outcome: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    actual_amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """End a dispute as `POST /api/admin/orders/{id}/resolve` does (and audit it)."""
    ctx = request.app.state.ctx
    typed = {"outcome": outcome, "reason": reason, "actual_amount": actual_amount}
    try:
        body = DisputeResolve(
            outcome=outcome,  # type: ignore[arg-type]  # validated by the model
            actual_amount=actual_amount.strip() or None,
            reason=reason.strip(),
        )
        client = await ctx.temporal.get()
        act = disputes.resolve(ctx, client, order_id=order_id, body=body, admin_id=user.id)
        after = await audit_action(
            act,
            request,
            ctx.engine,
            actor=user.id,
            order_id=order_id,
            before="disputed",
            actual_amount=body.actual_amount,
            reason=body.reason,
        )
    except ValidationError as exc:
        refused = {"order": order_id, "problems": field_errors(exc), "typed": typed}
        return await _disputes_page(request, user, status_code=422, refused=refused)
    except Pending:
        return back("/admin/disputes", notice=QUEUED)
    except DomainError as exc:
        if exc.code not in RESOLVE_REFUSALS:
            return back("/admin/disputes", error=exc.message)
        problems = {"actual_amount": RESOLVE_REFUSALS[exc.code]}
        refused = {"order": order_id, "problems": problems, "typed": typed}
        return await _disputes_page(request, user, status_code=422, refused=refused)
    return back("/admin/disputes", notice=f"Order {after.id}: {after.status.value}")


@router.get("/admin/requisites", response_class=HTMLResponse)
async def requisite_list(
    request: Request, user: PageStaff, status: str = "pending"
) -> HTMLResponse:
    """Requisites by status (pending approval by default), numbers masked."""
    status = status if status in REQUISITE_FILTERS else ""
    ctx = request.app.state.ctx

    def read() -> list[Any]:
        chosen = RequisiteStatus(status) if status else None
        with Session(ctx.engine) as session:
            return [requisite_public(r) for r in admin.requisites(session, status=chosen)]

    return page(
        request,
        "admin/requisites.html",
        user,
        requisites=await run_in_threadpool(read),
        status=status,
        statuses=REQUISITE_FILTERS,
        can_write=_can(user, Permission.accounts_manage),
    )


async def _set_requisite(
    request: Request, user: User, requisite_id: uuid.UUID, status: RequisiteStatus, back_to: str
) -> Response:
    def save() -> None:
        with audited(request, user) as session:
            admin.set_requisite_status(session, requisite_id=requisite_id, status=status)

    try:
        await run_in_threadpool(save)
    except DomainError as exc:
        return back(_requisites_path(back_to), error=exc.message)
    return back(_requisites_path(back_to), notice=f"Requisite {status.value}")


def _requisites_path(status: str) -> str:
    return f"/admin/requisites?status={status if status in REQUISITE_FILTERS else ''}"


@router.post("/admin/requisites/{requisite_id}/approve")
async def approve_requisite(
    request: Request,
    user: AccountManager,
    requisite_id: uuid.UUID,
    shown: Annotated[str, Form(max_length=20)] = "pending",
) -> Response:
    """Let a requisite take orders."""
    return await _set_requisite(request, user, requisite_id, RequisiteStatus.approved, shown)


@router.post("/admin/requisites/{requisite_id}/block")
async def block_requisite(
    request: Request,
    user: AccountManager,
    requisite_id: uuid.UUID,
    shown: Annotated[str, Form(max_length=20)] = "pending",
) -> Response:
    """Stop a requisite from taking new orders."""
    return await _set_requisite(request, user, requisite_id, RequisiteStatus.blocked, shown)


def _users(request: Request, role: str) -> list[User]:
    chosen = Role(role) if role in ROLES else None
    with Session(request.app.state.ctx.engine, expire_on_commit=False) as session:
        return users.users(session, role=chosen, limit=USER_LIMIT)


async def _users_page(
    request: Request, user: User, role: str = "", status_code: int = 200, **extra: Any
) -> HTMLResponse:
    role = role if role in ROLES else ""
    return page(
        request,
        "admin/users.html",
        user,
        status_code=status_code,
        users=await run_in_threadpool(_users, request, role),
        role=role,
        roles=ROLES,
        staff_roles=[r.value for r in StaffRole],
        can_write=_can(user, Permission.staff_manage),
        **extra,
    )


@router.get("/admin/users", response_class=HTMLResponse)
async def user_list(request: Request, user: PageStaff, role: str = "") -> HTMLResponse:
    """Accounts, newest first, optionally of one role (and an account just created, once)."""
    created = await once.take(request, user.id, USERS)
    answer = await _users_page(request, user, role, created=created)
    if created is not None:
        once.forget(answer)
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.post("/admin/users")
async def create_user(
    request: Request,
    user: StaffManager,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(max_length=20)],
    full_name: Annotated[str, Form(max_length=200)] = "",
    merchant_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create an account with a one-time password, shown once on the next page (never in a
    URL, never stored readable)."""
    typed = {"email": email, "role": role, "full_name": full_name, "merchant_name": merchant_name}
    try:
        body = UserCreate(
            email=email,
            role=role,  # type: ignore[arg-type]  # validated by the model
            full_name=full_name.strip() or None,
            merchant_name=merchant_name.strip() or None,
        )
    except ValidationError as exc:
        problems = field_errors(exc)
        return await _users_page(request, user, status_code=422, problems=problems, typed=typed)

    def create() -> UserCreated:
        with audited(request, user) as session:
            return users.create_user(session, body=body)

    try:
        created = await run_in_threadpool(create)
    except DomainError as exc:
        problems = {"email" if "email" in exc.code else "": exc.message}
        return await _users_page(request, user, status_code=409, problems=problems, typed=typed)
    answer = back(USERS, notice=f"Created {created.email}")
    shown = {"id": str(created.id), "email": created.email, "role": created.role.value}
    await once.keep(
        request, answer, user.id, USERS, shown | {"password": created.one_time_password}
    )
    return answer


async def _set_active(request: Request, user: User, user_id: uuid.UUID, active: bool) -> Response:
    def save() -> User:
        with audited(request, user) as session:
            return users.set_active(session, actor_id=user.id, user_id=user_id, active=active)

    try:
        changed = await run_in_threadpool(save)
    except DomainError as exc:
        return back("/admin/users", error=exc.message)
    done = "unblocked" if active else "blocked"
    return back("/admin/users", notice=f"{changed.email} {done}")


@router.post("/admin/users/{user_id}/block")
async def block_user(request: Request, user: StaffManager, user_id: uuid.UUID) -> Response:
    """Block an account: its sessions and API access stop at once."""
    return await _set_active(request, user, user_id, active=False)


@router.post("/admin/users/{user_id}/unblock")
async def unblock_user(request: Request, user: StaffManager, user_id: uuid.UUID) -> Response:
    """Unblock an account."""
    return await _set_active(request, user, user_id, active=True)
