"""Merchant gateway (store `X-API-Key`): pay-ins (create, read, mark paid, cancel, dispute)
and pay-outs (create, read, cancel, dispute)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Response, UploadFile

from api.deps import ContextDep, CurrentStore, PlatformDep, SessionDep, TemporalDep
from api.uploads import read_upload
from contracts.processing import ActorRequest, ActorType
from models.payins import CancelRequest, PayinCreate, PayinPublic
from models.payouts import PayoutCreate, PayoutPublic
from processing.orders import actions, disputes, payins, payouts

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
        platform=platform,
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


@router.post("/payins/{order_id}/dispute", response_model=PayinPublic)
async def dispute_payin(
    order_id: uuid.UUID,
    store: CurrentStore,
    ctx: ContextDep,
    client: TemporalDep,
    reason: Annotated[str, Form(min_length=3, max_length=500)],
    evidence: Annotated[UploadFile | None, File()] = None,
) -> PayinPublic | PayoutPublic:
    """Dispute a pay-in still awaiting payment or confirmation (e.g. the customer paid and
    the trader does not confirm), with a reason and an evidence file (PNG, JPEG or PDF)."""
    return await disputes.open_dispute(
        ctx,
        client,
        order_id=order_id,
        owner=payins.Owner(store_id=store.id),
        actor=ActorType.merchant,
        actor_id=str(store.id),
        reason=reason,
        evidence=await read_upload(evidence),
    )


@router.post("/payouts", status_code=201, response_model=PayoutPublic)
async def create_payout(
    body: PayoutCreate,
    response: Response,
    store: CurrentStore,
    ctx: ContextDep,
    client: TemporalDep,
    platform: PlatformDep,
    idempotency_key: IdempotencyKey = None,
) -> PayoutPublic:
    """Pay a customer: amount + fee are held on the store's balance at once (422
    `insufficient_balance` when it does not cover them); a trader takes and pays it."""
    payout, created = await payouts.create_payout(
        ctx,
        client,
        store=store,
        body=body,
        key=idempotency_key or body.merchant_order_id,
        platform=platform,
    )
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return payout


@router.get("/payouts/by-merchant-order/{merchant_order_id}", response_model=PayoutPublic)
def get_payout_by_merchant_order(
    merchant_order_id: str, store: CurrentStore, session: SessionDep
) -> PayoutPublic:
    """A pay-out by the merchant's own order id."""
    return payouts.find_payout_by_merchant_order(
        session, store_id=store.id, merchant_order_id=merchant_order_id
    )


@router.get("/payouts/{order_id}", response_model=PayoutPublic)
def get_payout(order_id: uuid.UUID, store: CurrentStore, ctx: ContextDep) -> PayoutPublic:
    """A pay-out of this store (the recipient's number is masked)."""
    return payouts.read_payout(ctx, order_id, payouts.payout_owner(store_id=store.id))


@router.post("/payouts/{order_id}/cancel", response_model=PayoutPublic)
async def cancel_payout(
    order_id: uuid.UUID,
    store: CurrentStore,
    ctx: ContextDep,
    client: TemporalDep,
    body: CancelRequest | None = None,
) -> PayoutPublic:
    """Cancel a pay-out no trader has taken yet; the held amount returns to the balance."""
    return await payouts.merchant_cancel(
        ctx, client, store_id=store.id, order_id=order_id, reason=body.reason if body else None
    )


@router.post("/payouts/{order_id}/dispute", response_model=PayoutPublic)
async def dispute_payout(
    order_id: uuid.UUID,
    store: CurrentStore,
    ctx: ContextDep,
    client: TemporalDep,
    reason: Annotated[str, Form(min_length=3, max_length=500)],
    evidence: Annotated[UploadFile | None, File()] = None,
) -> PayinPublic | PayoutPublic:
    """Dispute a pay-out taken or marked paid (e.g. the customer received nothing) before
    its review window ends, with a reason and an evidence file."""
    return await disputes.open_dispute(
        ctx,
        client,
        order_id=order_id,
        owner=payouts.payout_owner(store_id=store.id),
        actor=ActorType.merchant,
        actor_id=str(store.id),
        reason=reason,
        evidence=await read_upload(evidence),
    )
