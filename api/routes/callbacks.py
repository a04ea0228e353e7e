"""A store's callback deliveries for a pay-in or a pay-out: every attempt, and re-sending."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import ContextDep, CurrentStore, SessionDep, TemporalDep
from contracts.processing import OrderKind
from models.payins import CallbackDeliveryPublic, CallbackResent
from processing.callbacks import deliveries

router = APIRouter()


@router.get("/payins/{order_id}/callbacks", response_model=list[CallbackDeliveryPublic])
def list_callbacks(
    order_id: uuid.UUID, store: CurrentStore, session: SessionDep
) -> list[CallbackDeliveryPublic]:
    """Callback deliveries of a pay-in, each with every attempt (status, latency, error)."""
    return deliveries.deliveries(
        session, store_id=store.id, order_id=order_id, kind=OrderKind.payin
    )


@router.post(
    "/payins/{order_id}/callbacks/{event_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CallbackResent,
)
async def resend_callback(
    order_id: uuid.UUID, event_id: str, store: CurrentStore, ctx: ContextDep, client: TemporalDep
) -> CallbackResent:
    """Send an event again (same id and body; receivers dedupe on the id)."""
    return await deliveries.resend(
        ctx, client, store_id=store.id, order_id=order_id, event_id=event_id, kind=OrderKind.payin
    )


@router.get("/payouts/{order_id}/callbacks", response_model=list[CallbackDeliveryPublic])
def list_payout_callbacks(
    order_id: uuid.UUID, store: CurrentStore, session: SessionDep
) -> list[CallbackDeliveryPublic]:
    """Callback deliveries of a pay-out, each with every attempt."""
    return deliveries.deliveries(
        session, store_id=store.id, order_id=order_id, kind=OrderKind.payout
    )


@router.post(
    "/payouts/{order_id}/callbacks/{event_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CallbackResent,
)
async def resend_payout_callback(
    order_id: uuid.UUID, event_id: str, store: CurrentStore, ctx: ContextDep, client: TemporalDep
) -> CallbackResent:
    """Send a pay-out event again (same id and body)."""
    return await deliveries.resend(
        ctx, client, store_id=store.id, order_id=order_id, event_id=event_id, kind=OrderKind.payout
    )
