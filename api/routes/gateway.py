"""Merchant gateway (store `X-API-Key`): create pay-ins, read them, mark paid, cancel."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Header, Response, UploadFile

from api.deps import ContextDep, CurrentStore, PlatformDep, SessionDep, TemporalDep
from api.uploads import read_upload
from contracts.processing import ActorRequest, ActorType
from models.payins import CancelRequest, PayinCreate, PayinPublic
from processing import actions, payins

router = APIRouter()
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]


@router.post("/payins", status_code=201, response_model=PayinPublic)
async def create_payin(
    body: PayinCreate,
    response: Response,
    store: CurrentStore,
    ctx: ContextDep,
    client: TemporalDep,
    platform: PlatformDep,
    idempotency_key: IdempotencyKey = None,
) -> PayinPublic:
    """Create a pay-in; the reply already carries the requisite to pay to and the deadline."""
    payin, created = await payins.create_payin(
        ctx,
        client,
        store=store,
        body=body,
        key=idempotency_key or body.merchant_order_id,
        callback_delays_s=list(platform.callback_retry_delays_s),
    )
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return payin


@router.get("/payins/by-merchant-order/{merchant_order_id}", response_model=PayinPublic)
def get_by_merchant_order(
    merchant_order_id: str, store: CurrentStore, session: SessionDep
) -> PayinPublic:
    """A pay-in by the merchant's own order id."""
    return payins.find_by_merchant_order(
        session, store_id=store.id, merchant_order_id=merchant_order_id
    )


@router.get("/payins/{order_id}", response_model=PayinPublic)
def get_payin(order_id: uuid.UUID, store: CurrentStore, ctx: ContextDep) -> PayinPublic:
    """A pay-in of this store (the requisite number is masked here)."""
    return payins.read_payin(ctx, order_id=order_id, owner=payins.Owner(store_id=store.id))


@router.post("/payins/{order_id}/paid", response_model=PayinPublic)
async def mark_paid(
    order_id: uuid.UUID,
    store: CurrentStore,
    ctx: ContextDep,
    client: TemporalDep,
    receipt: Annotated[UploadFile | None, File()] = None,
) -> PayinPublic:
    """The customer says they paid, optionally with a receipt (PNG, JPEG or PDF, ≤ 5 MiB)."""
    data = await read_upload(receipt)
    return await actions.mark_paid(ctx, client, store_id=store.id, order_id=order_id, receipt=data)


@router.post("/payins/{order_id}/cancel", response_model=PayinPublic)
async def cancel_payin(
    order_id: uuid.UUID,
    store: CurrentStore,
    ctx: ContextDep,
    client: TemporalDep,
    body: CancelRequest | None = None,
) -> PayinPublic:
    """Cancel a pay-in before the customer has claimed payment."""
    actor = ActorRequest(ActorType.merchant.value, str(store.id), body.reason if body else None)
    return await actions.cancel(
        ctx, client, order_id=order_id, actor=actor, owner=payins.Owner(store_id=store.id)
    )
