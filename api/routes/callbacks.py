"""A store's callback deliveries for a pay-in: every attempt, and re-sending an event."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlmodel import col, select

from api.deps import ContextDep, CurrentStore, SessionDep, TemporalDep
from api.errors import NotFoundError
from api.payin_ops import owned_order
from contracts.processing import DEFAULT_CALLBACK_DELAYS_S, CallbackInput, callback_workflow_id
from models.base import as_utc
from models.orders import CallbackAttempt, CallbackDelivery
from models.payins import CallbackAttemptPublic, CallbackDeliveryPublic
from workflows.callback import CallbackWorkflow

router = APIRouter()


def delivery_public(
    delivery: CallbackDelivery, attempts: list[CallbackAttempt]
) -> CallbackDeliveryPublic:
    return CallbackDeliveryPublic(
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        url=delivery.url,
        status=delivery.status.value,
        attempts=[CallbackAttemptPublic.model_validate(a, from_attributes=True) for a in attempts],
        delivered_at=as_utc(delivery.delivered_at) if delivery.delivered_at else None,
        created_at=as_utc(delivery.created_at),
    )


@router.get("/payins/{order_id}/callbacks", response_model=list[CallbackDeliveryPublic])
def list_callbacks(
    order_id: uuid.UUID, store: CurrentStore, session: SessionDep
) -> list[CallbackDeliveryPublic]:
    """Callback deliveries of a pay-in, each with every attempt (status, latency, error)."""
    order = owned_order(session, order_id, store_id=store.id)
    deliveries = session.exec(
        select(CallbackDelivery)
        .where(CallbackDelivery.order_id == order.id)
        .order_by(col(CallbackDelivery.created_at))
    ).all()
    result = []
    for delivery in deliveries:
        attempts = session.exec(
            select(CallbackAttempt)
            .where(CallbackAttempt.delivery_id == delivery.id)
            .order_by(col(CallbackAttempt.attempt_no))
        ).all()
        result.append(delivery_public(delivery, list(attempts)))
    return result


@router.post("/payins/{order_id}/callbacks/{event_id}/resend", status_code=status.HTTP_202_ACCEPTED)
async def resend_callback(
    order_id: uuid.UUID,
    event_id: str,
    store: CurrentStore,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
) -> dict[str, str]:
    """Send an event again (same id and body; receivers dedupe on the id)."""
    order = owned_order(session, order_id, store_id=store.id)
    delivery = session.exec(
        select(CallbackDelivery).where(
            CallbackDelivery.event_id == event_id, CallbackDelivery.order_id == order.id
        )
    ).first()
    if delivery is None:
        raise NotFoundError("Callback event not found", code="callback_not_found")
    inp = CallbackInput(
        event_id,
        str(order.id),
        delivery.event_type,
        list(DEFAULT_CALLBACK_DELAYS_S[:3]),
        first_attempt_no=delivery.attempts + 1,
    )
    workflow_id = f"{callback_workflow_id(event_id)}-resend-{uuid.uuid4().hex[:8]}"
    await client.start_workflow(
        CallbackWorkflow.run, inp, id=workflow_id, task_queue=ctx.settings.temporal_task_queue
    )
    return {"event_id": event_id, "workflow_id": workflow_id}
