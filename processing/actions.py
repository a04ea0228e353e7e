"""Actions on a pay-in (customer claims payment, trader or admin confirms, anyone cancels).

Each action is an update to the order's workflow, whose validator decides (status × actor);
a refusal comes back as `InvalidTransition`. The answer is the order as it now is. No
database connection is held while the workflow is awaited.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from contracts.processing import (
    OPEN_STATUSES,
    ActorRequest,
    ActorType,
    ClaimRequest,
    OrderKind,
    PayinStatus,
    PayinUpdate,
    order_workflow_id,
)
from core.context import ServiceContext
from core.errors import Unavailable
from models.orders import Order
from models.payins import PayinPublic
from processing.errors import InvalidTransition
from processing.payins import STAFF, Owner, owned_order, read_payin
from processing.receipts import store_receipt


async def load_order(ctx: ServiceContext, *, order_id: uuid.UUID, owner: Owner) -> Order:
    """An owned order, read in a short session off the event loop."""

    def load() -> Order:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return owned_order(session, order_id, owner)

    return await asyncio.to_thread(load)


CLOSED_SIGNS = ("workflow execution already completed", "aborted by closing workflow")


async def send_update(
    client: Client,
    order_id: uuid.UUID,
    update: str,
    request: Any,
    kind: OrderKind | str = OrderKind.payin,
) -> str:
    """Run an update on the order's workflow; a validator's refusal is InvalidTransition."""
    handle = client.get_workflow_handle(order_workflow_id(kind, str(order_id)))
    try:
        result = await handle.execute_update(update, request, result_type=str)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(exc)
        raise InvalidTransition(message) from exc
    except RPCError as exc:
        # The workflow has closed (or is closing): the order is final and cannot change.
        message = str(exc).lower()
        if any(sign in message for sign in CLOSED_SIGNS):
            raise InvalidTransition("The order is already final") from exc
        raise Unavailable("Workflow engine error", code="temporal_error") from exc
    return str(result)


async def act(
    ctx: ServiceContext,
    client: Client,
    *,
    order_id: uuid.UUID,
    update: str,
    request: Any,
    owner: Owner = STAFF,
) -> PayinPublic:
    """Send an action to an owned order's workflow; the order as it now is."""
    await load_order(ctx, order_id=order_id, owner=owner)
    await send_update(client, order_id, update, request)
    return await asyncio.to_thread(read_payin, ctx, order_id=order_id, owner=owner)


def _require_status(order: Order, allowed: set[PayinStatus] | frozenset[PayinStatus]) -> None:
    # Checked before a receipt is stored, so a refused action leaves no orphan file.
    if order.status not in allowed:
        raise InvalidTransition(f"The order is {order.status.value}")


async def mark_paid(
    ctx: ServiceContext,
    client: Client,
    *,
    store_id: uuid.UUID,
    order_id: uuid.UUID,
    receipt: bytes | None,
) -> PayinPublic:
    """The customer says they paid, optionally with a receipt."""
    owner = Owner(store_id=store_id)
    order = await load_order(ctx, order_id=order_id, owner=owner)
    _require_status(order, {PayinStatus.awaiting_payment})
    receipt_id = None
    if receipt is not None:
        receipt_id = await store_receipt(
            ctx, order_id=order.id, data=receipt, actor=ActorType.customer, actor_id=None
        )
    claim = ClaimRequest(str(receipt_id) if receipt_id else None)
    await send_update(client, order.id, PayinUpdate.mark_paid, claim)
    return await asyncio.to_thread(read_payin, ctx, order_id=order.id, owner=owner)


async def trader_confirm(
    ctx: ServiceContext,
    client: Client,
    *,
    trader_id: uuid.UUID,
    order_id: uuid.UUID,
    receipt: bytes | None,
) -> PayinPublic:
    """The money arrived on the trader's requisite; optionally with the trader's receipt."""
    owner = Owner(trader_id=trader_id)
    order = await load_order(ctx, order_id=order_id, owner=owner)
    _require_status(order, OPEN_STATUSES)
    if receipt is not None:
        await store_receipt(
            ctx, order_id=order.id, data=receipt, actor=ActorType.trader, actor_id=str(trader_id)
        )
    request = ActorRequest(ActorType.trader.value, str(trader_id), None)
    await send_update(client, order.id, PayinUpdate.confirm, request)
    return await asyncio.to_thread(read_payin, ctx, order_id=order.id, owner=owner)


async def confirm(
    ctx: ServiceContext, client: Client, *, order_id: uuid.UUID, actor: ActorRequest
) -> PayinPublic:
    """An admin completes the order (e.g. resolves a dispute in the customer's favour)."""
    return await act(ctx, client, order_id=order_id, update=PayinUpdate.confirm, request=actor)


async def cancel(
    ctx: ServiceContext,
    client: Client,
    *,
    order_id: uuid.UUID,
    actor: ActorRequest,
    owner: Owner = STAFF,
) -> PayinPublic:
    """Cancel an owned order; the workflow decides whether this actor may, now."""
    return await act(
        ctx, client, order_id=order_id, update=PayinUpdate.cancel, request=actor, owner=owner
    )
