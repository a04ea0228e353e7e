"""Actions on a pay-in (customer claims payment, trader or admin confirms, anyone cancels).

Each action is an update to the order's workflow, whose validator decides (status × actor);
a refusal comes back as `InvalidTransition`. The answer is the order as it now is. No
database connection is held while the workflow is awaited, and the wait is bounded
(`update_wait_seconds`): past it the API answers 202 with the order as it is (`Pending`) and
the update stays with Temporal, applied when a worker takes it. The same actor repeating an
action already applied (a retry after a timeout) gets the order, not a refusal.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import Session, col, select
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from contracts.processing import (
    OPEN_STATUSES,
    ActorRequest,
    ActorType,
    ClaimRequest,
    OrderKind,
    OrderStatus,
    PayinStatus,
    PayinUpdate,
    ProcessingError,
    order_workflow_id,
)
from core.context import ServiceContext
from core.errors import Pending
from models.orders import Order, OrderEvent
from models.payins import PayinPublic
from processing.errors import InvalidTransition, StillRunning
from processing.orders import pending
from processing.orders.engine import EngineDown, bounded, engine_unavailable
from processing.orders.payins import STAFF, Owner, owned_order, read_payin
from processing.orders.receipts import store_receipt


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
    wait_s: float | None = None,
    update_id: str | None = None,
) -> str:
    """Run an update on the order's workflow; a refusal is InvalidTransition with the
    workflow's code. With `wait_s`, not answered by then → StillRunning (the update stays
    with the server).

    A refusal a handler decided (after the update was accepted) is kept by Temporal as the
    answer to its id for good: when `update_id` may name an earlier attempt's update, the
    action is sent once more under a new id, so it is decided now, not by that attempt."""
    try:
        return await _send(client, order_id, update, request, kind, wait_s, update_id)
    except WorkflowUpdateFailedError as exc:
        if update_id is None or refusal_type(exc) != ProcessingError.transition_refused:
            raise refusal(exc) from exc
    fresh = f"{update_id}:{uuid.uuid4().hex[:12]}"
    try:
        return await _send(client, order_id, update, request, kind, wait_s, fresh)
    except WorkflowUpdateFailedError as exc:
        raise refusal(exc) from exc


async def _send(
    client: Client,
    order_id: uuid.UUID,
    update: str,
    request: Any,
    kind: OrderKind | str,
    wait_s: float | None,
    update_id: str | None,
) -> str:
    handle = client.get_workflow_handle(order_workflow_id(kind, str(order_id)))
    update_id = update_id or f"{update}:{uuid.uuid4().hex}"
    call = handle.execute_update(update, request, id=update_id, result_type=str)
    try:
        # 202 (StillRunning) only when the engine holds the update; an engine that does not
        # answer, or does not know the update, never received it: 503, send it again.
        result = await bounded(client, handle.id, wait_s, call, update_id)
    except EngineDown as exc:
        raise engine_unavailable("retry later") from exc
    except RPCError as exc:
        # The workflow has closed (or is closing): the order is final and cannot change.
        message = str(exc).lower()
        if any(sign in message for sign in CLOSED_SIGNS):
            raise InvalidTransition("The order is already final") from exc
        raise engine_unavailable("retry later") from exc
    return str(result)


def refusal_type(exc: WorkflowUpdateFailedError) -> str | None:
    cause = exc.cause
    return cause.type if isinstance(cause, ApplicationError) else None


def refusal(exc: WorkflowUpdateFailedError) -> InvalidTransition:
    """The workflow's refusal with its stable code (`invalid_transition` unless it says)."""
    cause = exc.cause
    if not isinstance(cause, ApplicationError):
        return InvalidTransition(str(exc))
    code = next((d for d in cause.details[:1] if isinstance(d, str)), None)
    return InvalidTransition(cause.message, code=code)


@dataclass(frozen=True)
class Repeat:
    """What an action leads to and who asks: a repeat is the same actor asking again after
    the order reached `target` by their earlier request."""

    order_id: uuid.UUID
    target: str  # a PayinStatus, PayoutStatus or OrderStatus
    actor_type: ActorType
    actor_id: str | None

    @property
    def actor(self) -> str:
        return actor_key(self.actor_type, self.actor_id)


def actor_key(actor_type: ActorType, actor_id: str | None) -> str:
    """Who asks, as an action's update id names them."""
    return f"{actor_type.value}:{actor_id}"


def applied_already(ctx: ServiceContext, repeat: Repeat) -> bool:
    """Did the order's latest move into `target` come from this very actor?"""
    order_id = repeat.order_id
    with Session(ctx.engine) as session:
        event = session.exec(
            select(OrderEvent)
            .where(
                OrderEvent.order_id == order_id, OrderEvent.to_status == OrderStatus(repeat.target)
            )
            .order_by(col(OrderEvent.seq).desc())
            .limit(1)
        ).first()
    return (
        event is not None
        and event.actor_type == repeat.actor_type
        and event.actor_id == repeat.actor_id
    )


View = TypeVar("View")


async def respond(
    ctx: ServiceContext,
    client: Client,
    order: Order,
    update: str,
    request: Any,
    read: Callable[[], View],
    *,
    repeat: Repeat | None = None,
    actor: str | None = None,
) -> View:
    """Send the update, then answer with the order as it now is: 202 (`Pending`) when the
    workflow did not answer within `update_wait_seconds`; the order when the refusal is this
    actor's own repeat.

    The update's id names the action, the actor (`repeat`'s, or `actor` when no repeat can
    be recognised) and how far the order had got (its event count). The same actor sending
    it again before the order moved on (a retry after a 202, a 503 or a lost answer) joins
    the first update, which Temporal keeps by id, instead of being refused by it."""
    who = repeat.actor if repeat is not None else actor
    update_id = f"{update}:{who}:{order.events}"
    wait = ctx.settings.update_wait_seconds
    try:
        await send_update(client, order.id, update, request, order.kind, wait, update_id)
    except InvalidTransition:
        if repeat is None or not await asyncio.to_thread(applied_already, ctx, repeat):
            raise
    except StillRunning as held:
        await pending.remember(ctx.engine, client, held, update, request)
        raise Pending(await asyncio.to_thread(read)) from None
    return await asyncio.to_thread(read)


async def repeated(
    ctx: ServiceContext,
    order: Order,
    allowed: set[Any] | frozenset[Any],
    repeat: Repeat,
    refusal: str | None = None,
) -> bool:
    """Checked before anything is stored (a refused action leaves no orphan file): False =
    go on; True = this actor's action is already applied (answer with the order); otherwise
    InvalidTransition."""
    if order.status in allowed:
        return False
    if await asyncio.to_thread(applied_already, ctx, repeat):
        return True
    raise InvalidTransition(refusal or f"The order is {order.status.value}")


async def act(
    ctx: ServiceContext,
    client: Client,
    *,
    order_id: uuid.UUID,
    update: str,
    request: ActorRequest,
    target: PayinStatus,
    owner: Owner = STAFF,
) -> PayinPublic:
    """Send an action to an owned order's workflow; the order as it now is."""
    order = await load_order(ctx, order_id=order_id, owner=owner)
    repeat = Repeat(order_id, target, ActorType(request.actor_type), request.actor_id)

    def read() -> PayinPublic:
        return read_payin(ctx, order_id=order_id, owner=owner)

    return await respond(ctx, client, order, update, request, read, repeat=repeat)


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
    repeat = Repeat(order.id, PayinStatus.payment_claimed, ActorType.customer, None)

    def read() -> PayinPublic:
        return read_payin(ctx, order_id=order.id, owner=owner)

    if await repeated(ctx, order, {PayinStatus.awaiting_payment}, repeat):
        return await asyncio.to_thread(read)
    receipt_id = None
    if receipt is not None:
        receipt_id = await store_receipt(
            ctx, order_id=order.id, data=receipt, actor=ActorType.customer, actor_id=None
        )
    claim = ClaimRequest(str(receipt_id) if receipt_id else None)
    return await respond(ctx, client, order, PayinUpdate.mark_paid, claim, read, repeat=repeat)


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
    repeat = Repeat(order.id, PayinStatus.completed, ActorType.trader, str(trader_id))

    def read() -> PayinPublic:
        return read_payin(ctx, order_id=order.id, owner=owner)

    if await repeated(ctx, order, OPEN_STATUSES, repeat):
        return await asyncio.to_thread(read)
    if receipt is not None:
        await store_receipt(
            ctx, order_id=order.id, data=receipt, actor=ActorType.trader, actor_id=str(trader_id)
        )
    request = ActorRequest(ActorType.trader.value, str(trader_id), None)
    return await respond(ctx, client, order, PayinUpdate.confirm, request, read, repeat=repeat)


async def confirm(
    ctx: ServiceContext, client: Client, *, order_id: uuid.UUID, actor: ActorRequest
) -> PayinPublic:
    """An admin completes the order (e.g. resolves a dispute in the customer's favour)."""
    return await act(
        ctx,
        client,
        order_id=order_id,
        update=PayinUpdate.confirm,
        request=actor,
        target=PayinStatus.completed,
    )


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
        ctx,
        client,
        order_id=order_id,
        update=PayinUpdate.cancel,
        request=actor,
        target=PayinStatus.cancelled,
        owner=owner,
    )
