"""Disputes and fraud reviews (admin / support): the queue, opening, resolving, decisions;
pay-out reads. (Store and trader deposits: `api/routes/deposits.py`.)

Resolutions and decisions go to the order's workflow, outside the request's session, so
each is written to the audit log here (who, what, the order's status before and after).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from api.audit import audit_action
from api.deps import (
    ContextDep,
    CurrentStaff,
    DisputeHandler,
    OrderHandler,
    SessionDep,
    TemporalDep,
)
from contracts.processing import ActorType
from models.payins import MatchReport, PayinPublic
from models.payouts import (
    DisputeListItem,
    DisputeOpen,
    DisputeResolve,
    PayoutPublic,
    ReviewDecision,
)
from models.users import Role
from processing.accounts import admin
from processing.orders import disputes, payouts
from processing.orders.payins import ANY_ORDER

router = APIRouter()
OrderPublic = PayinPublic | PayoutPublic


@router.get("/disputes", response_model=list[DisputeListItem])
def dispute_queue(
    session: SessionDep, _: CurrentStaff, escalated: bool = False
) -> list[DisputeListItem]:
    """Open disputes of both kinds, oldest first; `escalated=true` for those past their SLA."""
    return disputes.queue(session, escalated_only=escalated)


@router.post("/orders/{order_id}/dispute", response_model=OrderPublic)
async def open_dispute(
    order_id: uuid.UUID,
    body: DisputeOpen,
    request: Request,
    ctx: ContextDep,
    client: TemporalDep,
    user: DisputeHandler,
) -> OrderPublic:
    """Support opens a dispute on an order of either kind (statuses as for merchants)."""
    actor = ActorType.support if user.role == Role.support else ActorType.admin
    before = await disputes.load_order(ctx, order_id=order_id, owner=ANY_ORDER)
    act = disputes.open_dispute(
        ctx,
        client,
        order_id=order_id,
        owner=ANY_ORDER,
        actor=actor,
        actor_id=str(user.id),
        reason=body.reason,
        evidence=None,
    )
    before_status = before.status.value
    return await audit_action(
        act,
        request,
        ctx.engine,
        actor=user.id,
        order_id=order_id,
        before=before_status,
        reason=body.reason,
    )


@router.post("/orders/{order_id}/resolve", response_model=OrderPublic)
async def resolve_dispute(
    order_id: uuid.UUID,
    body: DisputeResolve,
    request: Request,
    ctx: ContextDep,
    client: TemporalDep,
    user: DisputeHandler,
) -> OrderPublic:
    """End a dispute: `completed` (with `actual_amount` when less moved than the order's
    amount: the difference is a correction posting) or `cancelled` (the hold is released)."""
    act = disputes.resolve(ctx, client, order_id=order_id, body=body, admin_id=user.id)
    return await audit_action(
        act,
        request,
        ctx.engine,
        actor=user.id,
        order_id=order_id,
        before="disputed",
        actual_amount=body.actual_amount,
        reason=body.reason,
    )


@router.get("/reviews", response_model=list[MatchReport])
def review_queue(session: SessionDep, _: CurrentStaff) -> list[MatchReport]:
    """Orders a fraud rule sent to review, oldest first, with what fired."""
    return [admin.report_of(order) for order in disputes.reviews(session)]


@router.post("/orders/{order_id}/review", response_model=OrderPublic)
async def decide_review(
    order_id: uuid.UUID,
    body: ReviewDecision,
    request: Request,
    ctx: ContextDep,
    client: TemporalDep,
    user: OrderHandler,
) -> OrderPublic:
    """Approve an order on review (matching / holding goes on) or reject it (`failed`)."""
    act = disputes.review(
        ctx,
        client,
        order_id=order_id,
        approve=body.decision == "approve",
        reason=body.reason,
        admin_id=user.id,
    )
    return await audit_action(
        act,
        request,
        ctx.engine,
        actor=user.id,
        order_id=order_id,
        before="on_review",
        decision=body.decision,
    )


@router.get("/payouts/{order_id}", response_model=PayoutPublic)
def get_payout(order_id: uuid.UUID, ctx: ContextDep, _: CurrentStaff) -> PayoutPublic:
    """Any pay-out (recipient masked)."""
    return payouts.read_payout(ctx, order_id, payouts.payout_owner())
