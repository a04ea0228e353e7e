"""Pay-in operations shared by the gateway, trader and admin routers.

Reads come from the database (the workflow mirrors every transition there); actions go to
the order's workflow as updates, whose business refusals become HTTP errors here.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

from fastapi import UploadFile
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.errors import AppError, ConflictError, NotFoundError, ServiceUnavailableError
from contracts.processing import ActorType, payin_workflow_id
from core.context import ServiceContext
from core.security import mask_number
from models.amounts import to_decimal
from models.base import as_utc
from models.ledger import LedgerAccount
from models.orders import Order, Receipt
from models.payins import BalancePublic, PayinPublic, PaymentRequisite
from models.traders import Currency, Requisite

MAX_RECEIPT_BYTES = 5 * 1024 * 1024
# Receipts are recognised by their first bytes, never by the client's content type.
RECEIPT_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"%PDF-", "application/pdf", "pdf"),
)


def mask_holder(name: str) -> str:
    """'Ivan Petrov' → 'Ivan P.': enough for the customer to recognise, not to identify."""
    first, *rest = name.split()
    return " ".join([first, *(part[0] + "." for part in rest)])


def minor_units(session: Session, currency: str) -> int:
    row = session.get(Currency, currency)
    return row.minor_units if row else 2


def payin_public(
    session: Session, ctx: ServiceContext, order: Order, full_number: bool = False
) -> PayinPublic:
    units = minor_units(session, order.currency)
    requisite = None
    if order.requisite_id is not None:
        row = session.get(Requisite, order.requisite_id)
        assert row is not None
        # Decrypt only where the customer must see the number to pay; elsewhere the stored
        # last four digits are enough.
        requisite = PaymentRequisite(
            number=(
                ctx.secrets.decrypt(row.number_encrypted)
                if full_number
                else mask_number(row.number_last4)
            ),
            holder_name=mask_holder(row.holder_name),
            bank_code=row.bank_code,
            payment_method=row.payment_method,
        )
    return PayinPublic(
        **order.model_dump(
            include={"id", "merchant_order_id", "status", "failure_reason", "currency"}
            | {"payment_method", "bank_code", "finished_at"}
        ),
        requested_amount=to_decimal(order.requested_amount_minor, units),
        amount=to_decimal(order.amount_minor, units),
        requisite=requisite,
        expires_at=as_utc(order.expires_at) if order.expires_at else None,
        trader_deadline_at=as_utc(order.trader_deadline_at) if order.trader_deadline_at else None,
        created_at=as_utc(order.created_at),
        updated_at=as_utc(order.updated_at),
    )


async def update_and_read(
    session: Session,
    ctx: ServiceContext,
    client: Client,
    order_id: uuid.UUID,
    update: str,
    arg: Any,
    **owner: uuid.UUID,
) -> PayinPublic:
    """Send an update to the order's workflow, then answer with the order as it now is."""
    await send_update(client, order_id, update, arg)
    order = await asyncio.to_thread(owned_order, session, order_id, **owner)
    return await asyncio.to_thread(payin_public, session, ctx, order)


def balance_public(account: LedgerAccount, units: int) -> BalancePublic:
    return BalancePublic(
        currency=account.currency,
        balance=to_decimal(account.balance_minor, units),
        held=to_decimal(account.held_minor, units),
        available=to_decimal(account.balance_minor - account.held_minor, units),
    )


def owned_order(session: Session, order_id: uuid.UUID, **owner: uuid.UUID) -> Order:
    """The order when the caller owns it; someone else's order is a plain 404."""
    query = select(Order).where(Order.id == order_id)
    for column, value in owner.items():
        query = query.where(getattr(Order, column) == value)
    order = session.exec(query.execution_options(populate_existing=True)).first()
    if order is None:
        raise NotFoundError("Order not found", code="order_not_found")
    return order


async def send_update(client: Client, order_id: uuid.UUID, update: str, arg: Any) -> str:
    """Run an update on the order's workflow; a validator's refusal is a 409."""
    handle = client.get_workflow_handle(payin_workflow_id(str(order_id)))
    try:
        result = await handle.execute_update(update, arg, result_type=str)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(exc)
        raise ConflictError(message, code="invalid_transition") from exc
    except RPCError as exc:
        # The workflow has already closed: the order is final and cannot change any more.
        if "workflow execution already completed" in str(exc).lower():
            raise ConflictError("The order is already final", code="invalid_transition") from exc
        raise ServiceUnavailableError("Workflow engine error", code="temporal_error") from exc
    return str(result)


async def read_receipt(upload: UploadFile) -> tuple[bytes, str, str]:
    """Size-limited read and type check by magic bytes; refuses before anything is stored."""
    data = await upload.read(MAX_RECEIPT_BYTES + 1)
    if len(data) > MAX_RECEIPT_BYTES:
        raise AppError("Receipt is larger than 5 MiB", code="receipt_too_large", status_code=413)
    for magic, content_type, ext in RECEIPT_SIGNATURES:
        if data.startswith(magic):
            return data, content_type, ext
    raise AppError(
        "Receipt must be a PNG, JPEG or PDF file", code="unsupported_receipt_type", status_code=415
    )


async def store_receipt(
    ctx: ServiceContext, order: Order, upload: UploadFile, actor: ActorType, actor_id: str | None
) -> uuid.UUID:
    data, content_type, ext = await read_receipt(upload)
    receipt_id = uuid.uuid4()
    receipt = Receipt(
        id=receipt_id,
        order_id=order.id,
        s3_key=f"receipts/{order.id}/{uuid.uuid4().hex}.{ext}",
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_type=actor,
        uploaded_by_id=actor_id,
    )
    await asyncio.to_thread(ctx.storage.put, receipt.s3_key, data, content_type)

    def insert() -> None:
        with Session(ctx.engine) as session:
            session.add(receipt)
            session.commit()

    await asyncio.to_thread(insert)
    return receipt_id
