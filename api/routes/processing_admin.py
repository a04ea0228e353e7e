"""Processing admin (admin / support): requisites, fees and limits, order history."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api.audit import audit_action
from api.deps import (
    AccountManager,
    ContextDep,
    CurrentStaff,
    OrderHandler,
    SessionDep,
    TemporalDep,
)
from contracts.processing import ActorRequest, ActorType
from models.ledger import PostingPublic
from models.merchants import Store, StorePublic
from models.orders import Order, OrderEvent
from models.payins import (
    CancelRequest,
    MatchReport,
    OrderEventPublic,
    PayinPublic,
    StoreFeesUpdate,
)
from models.traders import (
    CollateralPublic,
    RequisiteLimitsUpdate,
    RequisitePublic,
    RequisiteStatus,
    SecurityDepositUpdate,
    Trader,
    TraderPublic,
    TraderUpdate,
)
from processing.accounts import admin, collateral
from processing.orders import actions, payins
from processing.views import requisite_public

router = APIRouter()


@router.get("/requisites", response_model=list[RequisitePublic])
def list_requisites(
    session: SessionDep, _: CurrentStaff, status: RequisiteStatus | None = None
) -> list[RequisitePublic]:
    """Requisites, optionally by status (e.g. pending approval); numbers masked."""
    return [requisite_public(r) for r in admin.requisites(session, status=status)]


@router.post("/requisites/{requisite_id}/approve", response_model=RequisitePublic)
def approve_requisite(
    requisite_id: uuid.UUID, session: SessionDep, _: AccountManager
) -> RequisitePublic:
    """Let a requisite take orders."""
    approved = admin.set_requisite_status(
        session, requisite_id=requisite_id, status=RequisiteStatus.approved
    )
    return requisite_public(approved)


@router.post("/requisites/{requisite_id}/block", response_model=RequisitePublic)
def block_requisite(
    requisite_id: uuid.UUID, session: SessionDep, _: AccountManager
) -> RequisitePublic:
    """Stop a requisite from taking new orders."""
    blocked = admin.set_requisite_status(
        session, requisite_id=requisite_id, status=RequisiteStatus.blocked
    )
    return requisite_public(blocked)


@router.patch("/requisites/{requisite_id}/limits", response_model=RequisitePublic)
def set_limits(
    requisite_id: uuid.UUID, body: RequisiteLimitsUpdate, session: SessionDep, _: AccountManager
) -> RequisitePublic:
    """Change a requisite's static / dynamic limits and priority."""
    return requisite_public(
        admin.set_requisite_limits(session, requisite_id=requisite_id, body=body)
    )


@router.patch("/traders/{trader_id}", response_model=TraderPublic)
def update_trader(
    trader_id: uuid.UUID, body: TraderUpdate, session: SessionDep, _: AccountManager
) -> Trader:
    """Set a trader's rewards, priority and switches."""
    return admin.update_trader(session, trader_id=trader_id, body=body)


@router.put("/traders/{trader_id}/security-deposit", response_model=CollateralPublic)
def set_security_deposit(
    trader_id: uuid.UUID, body: SecurityDepositUpdate, session: SessionDep, _: AccountManager
) -> CollateralPublic:
    """Set a trader's security deposit in one currency (null: the platform default); it is
    frozen at once, and a trader it takes below the minimum working balance goes offline."""
    return collateral.set_security_deposit(session, trader_id=trader_id, body=body)


@router.get("/traders/{trader_id}/collateral", response_model=list[CollateralPublic])
def trader_collateral(
    trader_id: uuid.UUID, session: SessionDep, _: CurrentStaff
) -> list[CollateralPublic]:
    """A trader's collateral per currency: deposit, holds, working balance, minimum."""
    admin.get_or_404(session, Trader, trader_id, "Trader")
    return collateral.collateral_of(session, trader_id)


@router.patch("/stores/{store_id}/processing", response_model=StorePublic)
def update_store_fees(
    store_id: uuid.UUID, body: StoreFeesUpdate, session: SessionDep, _: AccountManager
) -> Store:
    """Set a store's fees, deadlines and unique-amount bounds."""
    return admin.update_store(session, store_id=store_id, body=body)


@router.get("/orders/{order_id}", response_model=PayinPublic)
def get_order(order_id: uuid.UUID, ctx: ContextDep, _: CurrentStaff) -> PayinPublic:
    """Any pay-in (requisite number masked)."""
    return payins.read_payin(ctx, order_id=order_id)


@router.get("/orders/{order_id}/timeline", response_model=list[OrderEventPublic])
def order_timeline(order_id: uuid.UUID, session: SessionDep, _: CurrentStaff) -> list[OrderEvent]:
    """Every transition of the order: who, when, from → to, why."""
    return admin.timeline(session, order_id=order_id)


@router.get("/orders/{order_id}/postings", response_model=list[PostingPublic])
def order_postings(
    order_id: uuid.UUID, session: SessionDep, _: CurrentStaff
) -> list[PostingPublic]:
    """Ledger postings of the order, with each leg."""
    return admin.postings(session, order_id=order_id)


@router.get("/orders/{order_id}/match-report", response_model=MatchReport)
def match_report(order_id: uuid.UUID, session: SessionDep, _: CurrentStaff) -> MatchReport:
    """Why no requisite was matched: a reason code per candidate considered."""
    return admin.match_report(session, order_id=order_id)


def _status_now(ctx: ContextDep, order_id: uuid.UUID) -> str | None:
    with Session(ctx.engine) as session:
        order = session.get(Order, order_id)
        return order.status.value if order else None


async def _audited(
    request: Request, ctx: ContextDep, user_id: uuid.UUID, order_id: uuid.UUID, act: Any
) -> PayinPublic:
    """Run an admin action on the order's workflow; audit it once applied (the change
    happens in the workflow, outside the request's session)."""
    before = await run_in_threadpool(_status_now, ctx, order_id)
    return await audit_action(
        act, request, ctx.engine, actor=user_id, order_id=order_id, before=before
    )


@router.post("/orders/{order_id}/confirm", response_model=PayinPublic)
async def admin_confirm(
    order_id: uuid.UUID, request: Request, ctx: ContextDep, client: TemporalDep, user: OrderHandler
) -> PayinPublic:
    """Complete an order (e.g. resolve a dispute in the customer's favour)."""
    actor = ActorRequest(ActorType.admin.value, str(user.id))
    act = actions.confirm(ctx, client, order_id=order_id, actor=actor)
    return await _audited(request, ctx, user.id, order_id, act)


@router.post("/orders/{order_id}/cancel", response_model=PayinPublic)
async def admin_cancel(
    order_id: uuid.UUID,
    ctx: ContextDep,
    client: TemporalDep,
    user: OrderHandler,
    request: Request,
    body: CancelRequest | None = None,
) -> PayinPublic:
    """Cancel any open order (the trader's hold is released)."""
    actor = ActorRequest(ActorType.admin.value, str(user.id), body.reason if body else None)
    act = actions.cancel(ctx, client, order_id=order_id, actor=actor)
    return await _audited(request, ctx, user.id, order_id, act)
