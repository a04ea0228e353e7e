"""Orphan orders: committed as `created` while the workflow engine was down, so no workflow
owns them (the create answered 503). A merchant retrying with the same Idempotency-Key starts
the workflow then; an order nobody retried within the grace period is failed here as
`not_started` (nothing was held; its merchant_order_id is free again).

Safe against a late retry: the workflow id is the lock. An order whose workflow exists is
left to it; if a retry starts the workflow just after this looked, the workflow's first step
finds the order failed and ends with it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts.processing import (
    CALLBACK_WORKFLOW,
    NOT_STARTED,
    CallbackInput,
    OrderKind,
    OrderStatus,
    callback_workflow_id,
    order_workflow_id,
)
from contracts.reconcile import ReconcileInput, ReconcileResult
from core.db import session_scope
from core.metrics import ORPHANS_FAILED
from core.settings import Settings
from models.base import utcnow
from models.orders import WAITING_DELIVERY as WAITING
from models.orders import CallbackDelivery, Order
from processing.callbacks.events import write_delivery
from processing.orders.engine import workflow_exists
from processing.orders.lifecycle import audit, lock_order, system_step
from processing.platform.settings import effective


def orphan_candidates(engine: Engine, grace_s: int, limit: int) -> list[tuple[str, str]]:
    """(order id, kind) of orders still `created` past the grace period and never matched
    or held (a started pay-in is matched or failed within seconds)."""
    cutoff = utcnow() - timedelta(seconds=grace_s)
    with Session(engine) as session:
        rows = session.exec(
            select(Order.id, Order.kind)
            .where(
                Order.status == OrderStatus.created,
                col(Order.created_at) < cutoff,
                # Held pay-outs and matched pay-ins have a deadline: their workflow started.
                col(Order.expires_at).is_(None),
            )
            .order_by(col(Order.created_at))
            .limit(limit)
        ).all()
    return [(str(order_id), OrderKind(kind).value) for order_id, kind in rows]


def not_started_event_id(order_id: str) -> str:
    """The `*.failed` event of an order failed as not_started: one id per order, so a
    retried pass finds the same delivery."""
    return "evt_" + uuid.uuid5(uuid.UUID(order_id), NOT_STARTED).hex


def fail_not_started(engine: Engine, order_id: str) -> bool:
    """Fail an orphan (row-locked; still untouched by any workflow) and write its merchant
    event in the same transaction (every final status has a callback); False if it moved on."""
    with session_scope(engine) as session:
        order = lock_order(session, order_id)
        if order.status != OrderStatus.created or order.expires_at is not None:
            return False
        order.failure_reason, order.finished_at = NOT_STARTED, utcnow()
        audit(session, order, OrderStatus.failed, system_step(NOT_STARTED))
        session.add(order)
        session.flush()
        event_type = f"{order.kind.value}.failed"
        write_delivery(session, not_started_event_id(order_id), event_type, order.id)
        return True


def owed_callbacks(engine: Engine, settings: Settings, limit: int) -> list[CallbackInput]:
    """The not_started events still to deliver (their ladder may not have started: a pass
    that failed the order can die before it starts the callback), with today's ladder."""
    with Session(engine) as session:
        rows = session.exec(
            select(
                CallbackDelivery.event_id, CallbackDelivery.order_id, CallbackDelivery.event_type
            )
            .join(Order, col(Order.id) == CallbackDelivery.order_id)
            # Written out as the partial index says it, so the planner uses that index.
            .where(WAITING, Order.failure_reason == NOT_STARTED)
            .order_by(col(CallbackDelivery.created_at))
            .limit(limit)
        ).all()
        delays = list(effective(session, settings).callback_retry_delays_s)
    return [CallbackInput(event, str(order), kind, delays) for event, order, kind in rows]


async def start_callbacks(client: Client, task_queue: str, owed: list[CallbackInput]) -> None:
    """Start each event's CallbackWorkflow once: a running one is left to run, a finished
    one is never run again (its id is not reused)."""
    for inp in owed:
        try:
            await client.start_workflow(
                CALLBACK_WORKFLOW,
                inp,
                id=callback_workflow_id(inp.event_id),
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        except WorkflowAlreadyStartedError:
            continue


async def fail_orphans(
    engine: Engine, client: Client, inp: ReconcileInput, settings: Settings
) -> ReconcileResult:
    candidates = await asyncio.to_thread(orphan_candidates, engine, inp.grace_seconds, inp.limit)
    failed: list[str] = []
    for order_id, kind in candidates:
        if await workflow_exists(client, order_workflow_id(kind, order_id)):
            continue
        if await asyncio.to_thread(fail_not_started, engine, order_id):
            ORPHANS_FAILED.labels(kind).inc()
            failed.append(order_id)
    owed = await asyncio.to_thread(owed_callbacks, engine, settings, inp.limit)
    await start_callbacks(client, settings.temporal_task_queue, owed)
    return ReconcileResult(len(candidates), failed)
