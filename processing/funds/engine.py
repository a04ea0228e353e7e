"""Starting a deposit's or withdrawal's workflow, and sending it a staff or owner action.

As with orders: no database connection is held while a workflow is awaited, the wait is
bounded (`update_wait_seconds`: past it 202 with the request as it is), and a refusal comes
back with the workflow's stable code (`same_approver`, `invalid_transition`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from contracts.funds import FundsKind, OwnerKind
from contracts.search_attributes import FUNDS_KIND, FUNDS_STATUS, MERCHANT_ID, STORE_ID, TRADER_ID
from core.context import ServiceContext
from core.errors import Pending
from models.amounts import format_minor
from models.funds import Deposit, Withdrawal
from processing.errors import InvalidTransition, StillRunning
from processing.funds.common import mark_started
from processing.orders import pending
from processing.orders.actions import CLOSED_SIGNS, refusal
from processing.orders.engine import EngineDown, bounded, engine_unavailable

V = TypeVar("V")
# What a create answered 503 says: nothing is lost, and how to read the request again.
SAVED = (
    "the request is saved and its workflow is started within minutes; send it again with "
    "the same Idempotency-Key (a deposit: the same reference) to read it"
)


def search_attributes(kind: FundsKind, row: Deposit | Withdrawal) -> TypedSearchAttributes:
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(FUNDS_KIND, kind.value),
        SearchAttributePair(FUNDS_STATUS, row.status.value),
    ]
    if row.owner_kind == OwnerKind.trader:
        pairs.append(SearchAttributePair(TRADER_ID, str(row.owner_id)))
    else:
        pairs.append(SearchAttributePair(STORE_ID, str(row.owner_id)))
        pairs.append(SearchAttributePair(MERCHANT_ID, str(row.merchant_id)))
    return TypedSearchAttributes(pairs)


def summary(kind: FundsKind, row: Deposit | Withdrawal) -> str:
    """What ops read in the Temporal UI's list: `withdrawal 150.00 USDT · trader 1a2b3c4d`
    (no destination)."""
    amount = format_minor(row.amount_minor, row.currency)
    return f"{kind.value} {amount} {row.currency} · {row.owner_kind.value} {str(row.owner_id)[:8]}"


async def start(
    client: Client,
    ctx: ServiceContext,
    run: Any,
    arg: Any,
    *,
    workflow_id: str,
    kind: FundsKind,
    row: Deposit | Withdrawal,
) -> None:
    """Start the request's workflow once (a retried create finds it running, or closed) and
    mark the row started. Bounded like an order's start: past `update_wait_seconds`, or with
    the engine down, 503 `temporal_unavailable`; the row stays unmarked and the reconciler
    starts it after its grace period."""
    try:
        async with asyncio.timeout(ctx.settings.update_wait_seconds):
            await client.start_workflow(
                run,
                arg,
                id=workflow_id,
                task_queue=ctx.settings.temporal_task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=summary(kind, row),
                search_attributes=search_attributes(kind, row),
            )
    except WorkflowAlreadyStartedError:
        pass
    except (RPCError, TimeoutError) as exc:
        raise engine_unavailable(SAVED) from exc
    await asyncio.to_thread(mark_started, ctx.engine, type(row), row.id)


async def act(
    ctx: ServiceContext,
    client: Client,
    workflow_id: str,
    update: str,
    request: Any,
    read: Callable[[], V],
    restart: Callable[[], Awaitable[None]] | None = None,
) -> V:
    """Send the action and answer with the request as it now is. A request whose workflow
    the engine does not know (it was down right after the request was saved) gets it
    started by `restart`, then the action is sent once more."""
    handle = client.get_workflow_handle(workflow_id)
    update_id = f"{update}:{uuid.uuid4().hex}"
    call = handle.execute_update(update, request, id=update_id, result_type=str)
    try:
        await bounded(client, workflow_id, ctx.settings.update_wait_seconds, call, update_id)
    except WorkflowUpdateFailedError as exc:
        raise refusal(exc) from exc
    except StillRunning as held:
        await pending.remember(ctx.engine, client, held, update, request)
        raise Pending(await asyncio.to_thread(read)) from None
    except EngineDown as exc:
        raise engine_unavailable("retry later") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND and restart is not None:
            await restart()
            return await act(ctx, client, workflow_id, update, request, read)
        if any(sign in str(exc).lower() for sign in CLOSED_SIGNS):
            raise InvalidTransition("The request is already final") from exc
        raise engine_unavailable("retry later") from exc
    return await asyncio.to_thread(read)
