"""Actions answered 202 are applied even when Temporal restarts before a worker takes them.

An update Temporal has admitted but no worker has accepted lives only in the server's memory:
a restart in that window (a deploy, a crash; the worker was down too) loses it, though its
sender was told "accepted". So each 202 is written down here with the update's id and its
encoded argument, and the reconciler's pass asks the engine about each one still open:
applied (done or refused) → resolved; held → left to the worker; unknown to the engine →
sent again under the same id (an update the engine still has, or has applied, is never
applied twice: Temporal keys updates by id); the workflow closed → resolved (the order is
final)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import Input, Meta, Request, WaitPolicy
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from core.db import session_scope
from models.base import utcnow
from models.orders import PendingAction
from processing.errors import StillRunning
from processing.orders.engine import UpdateState, update_state

log = logging.getLogger(__name__)
ACCEPTED = UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED


async def remember(
    engine: Engine, client: Client, held: StillRunning, update: str, request: Any
) -> None:
    """Write down an action answered 202 (once per update id: a sender repeating it after
    the 202 joins the same update)."""
    [payload] = await client.data_converter.encode([request])
    row = PendingAction(
        workflow_id=held.workflow_id,
        update_name=update,
        update_id=held.update_id,
        payload=payload.SerializeToString(),
    )
    await asyncio.to_thread(_insert, engine, row)


def _insert(engine: Engine, row: PendingAction) -> None:
    try:
        with session_scope(engine) as session:
            session.add(row)
    except IntegrityError:
        return  # already written by the first attempt


def open_actions(engine: Engine, limit: int) -> list[PendingAction]:
    with Session(engine) as session:
        rows = session.exec(
            select(PendingAction)
            # Written as the partial index says it, so the planner uses that index.
            .where(col(PendingAction.resolved_at).is_(None))
            .order_by(col(PendingAction.created_at))
            .limit(limit)
        ).all()
        session.expunge_all()
    return list(rows)


def _record(engine: Engine, action_id: Any, *, resolved: bool) -> None:
    with session_scope(engine) as session:
        row = session.get(PendingAction, action_id)
        if row is None or row.resolved_at is not None:
            return
        if resolved:
            row.resolved_at = utcnow()
        else:
            row.resends += 1
        session.add(row)


async def workflow_open(client: Client, workflow_id: str) -> bool | None:
    """Running → True; closed or unknown to the engine → False; no answer → None."""
    try:
        info = await client.get_workflow_handle(workflow_id).describe(
            rpc_timeout=timedelta(seconds=2)
        )
    except RPCError as err:
        return False if err.status == RPCStatusCode.NOT_FOUND else None
    return info.status == WorkflowExecutionStatus.RUNNING


async def send_again(client: Client, action: PendingAction) -> None:
    """The update once more under its own id; past a short bound it waits in the engine."""
    payload = Payload()
    payload.ParseFromString(action.payload)
    request = UpdateWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=action.workflow_id),
        wait_policy=WaitPolicy(lifecycle_stage=ACCEPTED),
        request=Request(
            meta=Meta(update_id=action.update_id, identity=client.identity),
            input=Input(name=action.update_name, args=Payloads(payloads=[payload])),
        ),
    )
    try:
        await client.workflow_service.update_workflow_execution(
            request, retry=False, timeout=timedelta(seconds=2)
        )
    except RPCError as err:
        # Past the bound the engine has admitted it: a worker accepts it when one is back.
        if err.status not in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise


async def settle_one(engine: Engine, client: Client, action: PendingAction) -> bool:
    """Resolve the action or send it again; True when it was sent again."""
    state = await update_state(client, action.workflow_id, action.update_id)
    if state == UpdateState.applied:
        await asyncio.to_thread(_record, engine, action.id, resolved=True)
        return False
    if state != UpdateState.missing:
        return False  # held by the engine, or the engine did not answer: next pass
    running = await workflow_open(client, action.workflow_id)
    if running is False:
        await asyncio.to_thread(_record, engine, action.id, resolved=True)
        return False
    if running is None:
        return False
    await send_again(client, action)
    await asyncio.to_thread(_record, engine, action.id, resolved=False)
    log.warning("sent %s again: Temporal had lost it", action.update_id)
    return True


async def resend_lost(engine: Engine, client: Client, limit: int) -> list[str]:
    """One pass over the actions answered 202 and not yet applied; the update ids sent again."""
    resent: list[str] = []
    for action in await asyncio.to_thread(open_actions, engine, limit):
        try:
            if await settle_one(engine, client, action):
                resent.append(action.update_id)
        except RPCError as err:
            log.warning("pending action %s: %s", action.update_id, err.status)
    return resent
