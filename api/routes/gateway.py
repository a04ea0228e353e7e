"""Merchant gateway (store `X-API-Key`): create pay-ins, read them, mark paid, cancel."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Header, Request, Response, UploadFile
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy

from api.deps import ContextDep, CurrentStore, SessionDep, TemporalDep
from api.errors import AppError, ConflictError, ForbiddenError, NotFoundError
from api.payin_ops import owned_order, payin_public, store_receipt, update_and_read
from api.routes.callbacks import router as callbacks_router
from contracts.processing import (
    DEFAULT_CALLBACK_DELAYS_S,
    UPDATE_CANCEL,
    UPDATE_MARK_PAID,
    ActorRequest,
    ActorType,
    ClaimRequest,
    InstructionsRequest,
    PayinInput,
    PayinStatus,
    payin_workflow_id,
)
from core.context import ServiceContext
from models.amounts import to_minor
from models.merchants import Store
from models.orders import Order
from models.payins import CancelRequest, PayinCreate, PayinPublic
from models.traders import Currency
from workflows.payin import PayinWorkflow

router = APIRouter()
router.include_router(callbacks_router)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]


def unprocessable(message: str, code: str, details: object = None) -> AppError:
    return AppError(message, code=code, status_code=422, details=details)


def validated_amount(session: Session, store: Store, body: PayinCreate) -> int:
    currency = session.get(Currency, body.currency.upper())
    if currency is None or not currency.is_active:
        raise unprocessable(f"Unknown currency {body.currency!r}", "unknown_currency")
    if currency.code != store.currency:
        raise unprocessable(f"This store accepts {store.currency} only", "currency_not_supported")
    try:
        amount = to_minor(body.amount, currency.minor_units)
    except ValueError as exc:
        raise unprocessable(str(exc), "invalid_amount") from exc
    if not store.min_amount_minor <= amount <= store.max_amount_minor:
        raise unprocessable("Amount is outside the store's limits", "amount_out_of_range")
    return amount


def existing_order(
    session: Session, store: Store, body: PayinCreate, key: str, digest: str
) -> Order | None:
    """The order already created under this key; a reused key or order id is a 409."""
    # One query for both checks: the order under this key and any order with this id.
    rows = session.exec(
        select(Order).where(
            Order.store_id == store.id,
            or_(
                col(Order.idempotency_key) == key,
                col(Order.merchant_order_id) == body.merchant_order_id,
            ),
        )
    ).all()
    existing = next((row for row in rows if row.idempotency_key == key), None)
    if existing is not None:
        if existing.request_hash != digest:
            raise ConflictError(
                "Idempotency key was used with other parameters", code="idempotency_key_reused"
            )
        return existing
    if rows:
        raise ConflictError("merchant_order_id already used", code="duplicate_merchant_order_id")
    return None


def find_or_create_order(
    session: Session, store: Store, body: PayinCreate, key: str
) -> tuple[Order, bool]:
    """The order for this idempotency key: the existing one (same parameters) or a new one."""
    if not store.payin_enabled:
        raise ForbiddenError("Pay-ins are disabled for this store", code="payin_disabled")
    amount = validated_amount(session, store, body)
    digest = hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()
    for _ in range(2):
        existing = existing_order(session, store, body, key, digest)
        if existing is not None:
            return existing, False
        order = Order(
            **body.model_dump(include={"merchant_order_id", "payment_method", "bank_code"}),
            **body.model_dump(include={"customer_id", "callback_url"}),
            store_id=store.id,
            merchant_id=store.merchant_id,
            idempotency_key=key,
            request_hash=digest,
            requested_amount_minor=amount,
            amount_minor=amount,
            currency=store.currency,
            payment_deadline_seconds=store.payment_deadline_seconds,
            trader_deadline_seconds=store.trader_deadline_seconds,
        )
        session.add(order)
        try:
            session.commit()
            return order, True
        except IntegrityError:
            # A concurrent retry with the same key won the insert: answer with its order.
            session.rollback()
    raise ConflictError("Concurrent create with the same key", code="idempotency_conflict")


async def start_and_match(
    client: Client, ctx: ServiceContext, order: Order, delays: list[int]
) -> None:
    """Update-with-start: the workflow starts (or is found) and answers once matched."""
    start = WithStartWorkflowOperation(
        PayinWorkflow.run,
        PayinInput(str(order.id), str(order.store_id), str(order.merchant_id), delays),
        id=payin_workflow_id(str(order.id)),
        task_queue=ctx.settings.temporal_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    try:
        await client.execute_update_with_start_workflow(
            PayinWorkflow.instructions,
            InstructionsRequest(str(order.id)),
            start_workflow_operation=start,
        )
    except WorkflowUpdateFailedError as exc:
        raise ConflictError("The order could not be matched", code="match_failed") from exc


@router.post("/payins", status_code=201, response_model=PayinPublic)
async def create_payin(
    body: PayinCreate,
    request: Request,
    response: Response,
    store: CurrentStore,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> PayinPublic:
    """Create a pay-in; the reply already carries the requisite to pay to and the deadline."""
    key = idempotency_key or body.merchant_order_id
    order, created = await asyncio.to_thread(find_or_create_order, session, store, body, key)
    if order.status == PayinStatus.created:
        delays = getattr(request.app.state, "payin_callback_delays_s", DEFAULT_CALLBACK_DELAYS_S)
        await start_and_match(client, ctx, order, list(delays))
    payin = await asyncio.to_thread(created_payin, session, ctx, order.id, store.id)
    if payin.status == PayinStatus.failed:
        raise unprocessable(
            "No requisite is available for this pay-in",
            "no_requisite",
            {"order_id": str(payin.id), "status": "failed", "failure_reason": payin.failure_reason},
        )
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return payin


def created_payin(
    session: Session, ctx: ServiceContext, order_id: uuid.UUID, store_id: uuid.UUID
) -> PayinPublic:
    """The order as the workflow left it, with the full requisite number to pay to."""
    return payin_public(session, ctx, owned_order(session, order_id, store_id=store_id), True)


@router.get("/payins/by-merchant-order/{merchant_order_id}", response_model=PayinPublic)
def get_by_merchant_order(
    merchant_order_id: str, store: CurrentStore, session: SessionDep, ctx: ContextDep
) -> PayinPublic:
    """A pay-in by the merchant's own order id."""
    order = session.exec(
        select(Order).where(
            Order.store_id == store.id, Order.merchant_order_id == merchant_order_id
        )
    ).first()
    if order is None:
        raise NotFoundError("Order not found", code="order_not_found")
    return payin_public(session, ctx, order)


@router.get("/payins/{order_id}", response_model=PayinPublic)
def get_payin(
    order_id: uuid.UUID, store: CurrentStore, session: SessionDep, ctx: ContextDep
) -> PayinPublic:
    """A pay-in of this store (the requisite number is masked here)."""
    return payin_public(session, ctx, owned_order(session, order_id, store_id=store.id))


@router.post("/payins/{order_id}/paid", response_model=PayinPublic)
async def mark_paid(
    order_id: uuid.UUID,
    store: CurrentStore,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    receipt: Annotated[UploadFile | None, File()] = None,
) -> PayinPublic:
    """The customer says they paid, optionally with a receipt (PNG, JPEG or PDF, ≤ 5 MiB)."""
    order = await asyncio.to_thread(owned_order, session, order_id, store_id=store.id)
    if order.status != PayinStatus.awaiting_payment:
        raise ConflictError(f"The order is {order.status.value}", code="invalid_transition")
    receipt_id = None
    if receipt is not None:
        receipt_id = await store_receipt(ctx, order, receipt, ActorType.customer, None)
    claim = ClaimRequest(str(receipt_id) if receipt_id else None)
    return await update_and_read(
        session, ctx, client, order.id, UPDATE_MARK_PAID, claim, store_id=store.id
    )


@router.post("/payins/{order_id}/cancel", response_model=PayinPublic)
async def cancel_payin(
    order_id: uuid.UUID,
    store: CurrentStore,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    body: CancelRequest | None = None,
) -> PayinPublic:
    """Cancel a pay-in before the customer has claimed payment."""
    order = await asyncio.to_thread(owned_order, session, order_id, store_id=store.id)
    request = ActorRequest(ActorType.merchant.value, str(store.id), body.reason if body else None)
    return await update_and_read(
        session, ctx, client, order.id, UPDATE_CANCEL, request, store_id=store.id
    )
