"""Disputes on both kinds of order, and decisions on orders a fraud rule sent to review.

A dispute is opened by a timeout (in the workflows), by the merchant with a reason and an
optional evidence file, or by support; it waits for an admin, is escalated past its SLA
(never decided by a timer), and is resolved to `completed` — with the amount that actually
moved, posted as a correction — or `cancelled` (the hold is released).
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.processing import (
    ActorRequest,
    ActorType,
    OrderKind,
    OrderStatus,
    PayinUpdate,
    ReviewRequest,
)
from core.context import ServiceContext
from core.errors import Invalid
from models.amounts import to_decimal, to_minor
from models.base import as_utc, utcnow
from models.orders import Order
from models.payins import PayinPublic
from models.payouts import DisputeListItem, DisputeResolve, PayoutPublic
from processing.errors import InvalidTransition
from processing.orders.actions import Repeat, actor_key, load_order, repeated, respond
from processing.orders.payins import ANY_ORDER, Owner, owned_order
from processing.orders.receipts import receipt_type, store_receipt
from processing.views import minor_units, payin_public, payout_public

# Statuses a dispute may be opened in, per kind (the workflows' validators decide finally;
# this early check keeps a refused dispute from storing its evidence file).
DISPUTABLE = {
    OrderKind.payin: {OrderStatus.awaiting_payment, OrderStatus.payment_claimed},
    OrderKind.payout: {OrderStatus.assigned, OrderStatus.paid},
}


def order_view(
    ctx: ServiceContext, order_id: uuid.UUID, owner: Owner
) -> PayinPublic | PayoutPublic:
    with Session(ctx.engine) as session:
        order = owned_order(session, order_id, owner)
        if order.kind == OrderKind.payout:
            return payout_public(session, order)
        return payin_public(session, order)


async def open_dispute(
    ctx: ServiceContext,
    client: Client,
    *,
    order_id: uuid.UUID,
    owner: Owner,
    actor: ActorType,
    actor_id: str,
    reason: str,
    evidence: bytes | None,
) -> PayinPublic | PayoutPublic:
    order = await load_order(ctx, order_id=order_id, owner=owner)
    repeat = Repeat(order.id, OrderStatus.disputed, actor, actor_id)
    refusal = f"The order cannot be disputed while it is {order.status.value}"
    if await repeated(ctx, order, DISPUTABLE[order.kind], repeat, refusal):
        return await asyncio.to_thread(order_view, ctx, order.id, owner)
    evidence_id = None
    if evidence is not None:
        receipt_type(evidence)  # refused before anything is stored
        evidence_id = await store_receipt(
            ctx, order_id=order.id, data=evidence, actor=actor, actor_id=actor_id
        )
    request = ActorRequest(
        actor.value, actor_id, reason, evidence_id=str(evidence_id) if evidence_id else None
    )

    def read() -> PayinPublic | PayoutPublic:
        return order_view(ctx, order.id, owner)

    return await respond(ctx, client, order, PayinUpdate.dispute, request, read, repeat=repeat)


async def resolve(
    ctx: ServiceContext,
    client: Client,
    *,
    order_id: uuid.UUID,
    body: DisputeResolve,
    admin_id: uuid.UUID,
) -> PayinPublic | PayoutPublic:
    """An admin ends a dispute: completed (optionally with the actual amount) or cancelled."""
    order = await load_order(ctx, order_id=order_id, owner=ANY_ORDER)
    if order.status != OrderStatus.disputed:
        raise InvalidTransition(f"The order is {order.status.value}, not disputed")
    actual = None
    if body.actual_amount is not None:
        units = await asyncio.to_thread(_units, ctx, order.currency)
        try:
            actual = to_minor(body.actual_amount, units)
        except ValueError as exc:
            raise Invalid(str(exc), code="invalid_amount") from exc
        if not 0 < actual <= order.amount_minor:
            raise Invalid(
                f"actual_amount must be above zero and at most the order's "
                f"{to_decimal(order.amount_minor, units)}",
                code="actual_amount_out_of_range",
            )
        if actual == order.amount_minor:
            actual = None
    request = ActorRequest(ActorType.admin.value, str(admin_id), body.reason, actual)
    update = PayinUpdate.confirm if body.outcome == "completed" else PayinUpdate.cancel

    def read() -> PayinPublic | PayoutPublic:
        return order_view(ctx, order.id, ANY_ORDER)

    admin = actor_key(ActorType.admin, str(admin_id))
    return await respond(ctx, client, order, update, request, read, actor=admin)


def _units(ctx: ServiceContext, currency: str) -> int:
    with Session(ctx.engine) as session:
        return minor_units(session, currency)


async def review(
    ctx: ServiceContext,
    client: Client,
    *,
    order_id: uuid.UUID,
    approve: bool,
    reason: str | None,
    admin_id: uuid.UUID,
) -> PayinPublic | PayoutPublic:
    """Approve (matching or holding goes on) or reject (`failed`, `fraud_rejected`)."""
    order = await load_order(ctx, order_id=order_id, owner=ANY_ORDER)
    if order.status != OrderStatus.on_review:
        raise InvalidTransition(f"The order is {order.status.value}, not on review")
    request = ReviewRequest(str(admin_id), approve, reason)

    def read() -> PayinPublic | PayoutPublic:
        return order_view(ctx, order.id, ANY_ORDER)

    admin = actor_key(ActorType.admin, str(admin_id))
    return await respond(ctx, client, order, PayinUpdate.review, request, read, actor=admin)


def queue(session: Session, *, escalated_only: bool = False) -> list[DisputeListItem]:
    """Open disputes, oldest first (the escalated ones are the oldest past their SLA)."""
    query = select(Order).where(Order.status == OrderStatus.disputed)
    if escalated_only:
        query = query.where(col(Order.escalated_at).is_not(None))
    orders = session.exec(query.order_by(col(Order.disputed_at).asc().nulls_first())).all()
    now = utcnow()
    items = []
    for order in orders:
        opened = as_utc(order.disputed_at or order.updated_at)
        items.append(
            DisputeListItem(
                order_id=order.id,
                kind=order.kind.value,
                store_id=order.store_id,
                trader_id=order.trader_id,
                amount=to_decimal(order.amount_minor, minor_units(session, order.currency)),
                currency=order.currency,
                opened_by=order.dispute_opened_by,
                reason=order.dispute_reason,
                disputed_at=opened,
                escalated_at=as_utc(order.escalated_at) if order.escalated_at else None,
                age_seconds=int((now - opened).total_seconds()),
            )
        )
    return items


def open_counts(session: Session) -> dict[str, int]:
    """Open disputes, the escalated ones among them, and orders on fraud review, counted in
    the database through the status index (the overview never loads the orders)."""
    disputed = col(Order.status) == OrderStatus.disputed
    escalated = and_(disputed, col(Order.escalated_at).is_not(None))
    on_review = col(Order.status) == OrderStatus.on_review
    row = session.exec(
        select(
            *(
                func.coalesce(func.sum(case((c, 1), else_=0)), 0)
                for c in (disputed, escalated, on_review)
            )
        ).where(col(Order.status).in_((OrderStatus.disputed, OrderStatus.on_review)))
    ).one()
    return dict(zip(("disputes", "escalated", "reviews"), map(int, row), strict=True))


def reviews(session: Session) -> list[Order]:
    query = select(Order).where(Order.status == OrderStatus.on_review)
    return list(session.exec(query.order_by(col(Order.created_at))).all())
