"""A store's view of its callbacks: deliveries with every attempt, and re-sending an event."""

from __future__ import annotations

import asyncio
import uuid

from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.processing import (
    DEFAULT_CALLBACK_DELAYS_S,
    CallbackInput,
    OrderKind,
    callback_workflow_id,
)
from core.context import ServiceContext
from core.errors import NotFound
from models.orders import CallbackAttempt, CallbackDelivery
from models.payins import CallbackDeliveryPublic, CallbackResent
from processing.orders.payins import Owner, owned_order
from processing.views import delivery_public
from workflows.callback import CallbackWorkflow

# A re-send gets a short ladder of its own: the merchant asked for it, so they are listening.
RESEND_DELAYS_S = list(DEFAULT_CALLBACK_DELAYS_S[:3])


def deliveries(
    session: Session, *, store_id: uuid.UUID, order_id: uuid.UUID, kind: OrderKind
) -> list[CallbackDeliveryPublic]:
    """Callback deliveries of an order, each with every attempt (status, latency, error)."""
    order = owned_order(session, order_id, Owner(store_id=store_id, kind=kind))
    rows = session.exec(
        select(CallbackDelivery)
        .where(CallbackDelivery.order_id == order.id)
        .order_by(col(CallbackDelivery.created_at))
    ).all()
    result = []
    for delivery in rows:
        attempts = session.exec(
            select(CallbackAttempt)
            .where(CallbackAttempt.delivery_id == delivery.id)
            .order_by(col(CallbackAttempt.attempt_no))
        ).all()
        result.append(delivery_public(delivery, list(attempts)))
    return result


def delivery_to_resend(
    session: Session, *, store_id: uuid.UUID, order_id: uuid.UUID, event_id: str, kind: OrderKind
) -> CallbackInput:
    """The input of a re-send: same event id and body, attempts numbered after the last."""
    order = owned_order(session, order_id, Owner(store_id=store_id, kind=kind))
    delivery = session.exec(
        select(CallbackDelivery).where(
            CallbackDelivery.event_id == event_id, CallbackDelivery.order_id == order.id
        )
    ).first()
    if delivery is None:
        raise NotFound("Callback event not found", code="callback_not_found")
    return CallbackInput(
        event_id,
        str(order.id),
        delivery.event_type,
        list(RESEND_DELAYS_S),
        first_attempt_no=delivery.attempts + 1,
    )


async def resend(
    ctx: ServiceContext,
    client: Client,
    *,
    store_id: uuid.UUID,
    order_id: uuid.UUID,
    event_id: str,
    kind: OrderKind,
) -> CallbackResent:
    """Start a re-send workflow; receivers dedupe on the unchanged event id."""

    def read() -> CallbackInput:
        with Session(ctx.engine) as session:
            return delivery_to_resend(
                session, store_id=store_id, order_id=order_id, event_id=event_id, kind=kind
            )

    inp = await asyncio.to_thread(read)
    workflow_id = f"{callback_workflow_id(event_id)}-resend-{uuid.uuid4().hex[:8]}"
    await client.start_workflow(
        CallbackWorkflow.run, inp, id=workflow_id, task_queue=ctx.settings.temporal_task_queue
    )
    return CallbackResent(event_id=event_id, workflow_id=workflow_id)
