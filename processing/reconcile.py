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
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.processing import (
    NOT_STARTED,
    OrderKind,
    OrderStatus,
    order_workflow_id,
)
from contracts.reconcile import ReconcileInput, ReconcileResult
from core.db import session_scope
from core.metrics import ORPHANS_FAILED
from models.base import utcnow
from models.orders import Order
from processing.engine import workflow_exists
from processing.lifecycle import audit, lock_order, system_step


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


def fail_not_started(engine: Engine, order_id: str) -> bool:
    """Fail an orphan (row-locked; still untouched by any workflow); False if it moved on."""
    with session_scope(engine) as session:
        order = lock_order(session, order_id)
        if order.status != OrderStatus.created or order.expires_at is not None:
            return False
        order.failure_reason, order.finished_at = NOT_STARTED, utcnow()
        audit(session, order, OrderStatus.failed, system_step(NOT_STARTED))
        session.add(order)
        return True


async def fail_orphans(engine: Engine, client: Client, inp: ReconcileInput) -> ReconcileResult:
    candidates = await asyncio.to_thread(orphan_candidates, engine, inp.grace_seconds, inp.limit)
    failed: list[str] = []
    for order_id, kind in candidates:
        if await workflow_exists(client, order_workflow_id(kind, order_id)):
            continue
        if await asyncio.to_thread(fail_not_started, engine, order_id):
            ORPHANS_FAILED.labels(kind).inc()
            failed.append(order_id)
    return ReconcileResult(len(candidates), failed)
