"""Deposits and withdrawals whose workflow never started: the row (a withdrawal's hold with
it) was committed, then the start failed (the engine was down: the create answered 503) or
never happened (the API died in between). Money can only move through a workflow, so the
orphan reconciler's pass starts each one found still waiting after the orders' grace period.

Cheap: a request is marked `workflow_started_at` once its start succeeded, and a pass reads
only the partial index on the unmarked rows. Safe against a late retry or action: the start
is idempotent (the workflow id; `USE_EXISTING`, `REJECT_DUPLICATE`), and a row whose workflow
has already moved it on is only marked.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.funds import DepositStatus, FundsKind, WithdrawalStatus
from core.context import ServiceContext
from core.metrics import FUNDS_STARTED_LATE
from models.base import utcnow
from models.funds import Deposit, Withdrawal
from models.platform_settings import PlatformValues
from processing.funds import deposits, withdrawals
from processing.funds.common import T, mark_started
from processing.platform.settings import effective

DEPOSIT_OPEN = (DepositStatus.requested, DepositStatus.confirmed)


def waiting(session: Session, model: type[T], grace_s: int, limit: int) -> list[T]:
    """Unmarked requests older than the grace period (a younger one may still be starting),
    oldest first; the query reads the partial index (`ix_<table>_not_started`)."""
    cutoff = utcnow() - timedelta(seconds=grace_s)
    query = (
        select(model)
        .where(col(model.workflow_started_at).is_(None), col(model.created_at) < cutoff)
        .order_by(col(model.created_at))
        .limit(limit)
    )
    return list(session.exec(query).all())


def stranded(
    ctx: ServiceContext, grace_s: int, limit: int
) -> tuple[list[Deposit], list[Withdrawal], PlatformValues]:
    with Session(ctx.engine, expire_on_commit=False) as session:
        found = (
            waiting(session, Deposit, grace_s, limit),
            waiting(session, Withdrawal, grace_s, limit),
        )
        return *found, effective(session, ctx.settings)


async def start_stranded(
    ctx: ServiceContext, client: Client, grace_s: int, limit: int
) -> list[str]:
    """Start every waiting request's workflow (and mark it); the ids of those started."""
    found_deposits, found_withdrawals, platform = await asyncio.to_thread(
        stranded, ctx, grace_s, limit
    )
    started: list[str] = []
    for deposit in found_deposits:
        if deposit.status in DEPOSIT_OPEN:
            await deposits.start(ctx, client, deposit)
            FUNDS_STARTED_LATE.labels(FundsKind.deposit.value).inc()
            started.append(str(deposit.id))
        else:
            await asyncio.to_thread(mark_started, ctx.engine, Deposit, deposit.id)
    for withdrawal in found_withdrawals:
        if withdrawal.status == WithdrawalStatus.requested:
            await withdrawals.start(ctx, client, withdrawal, platform)
            FUNDS_STARTED_LATE.labels(FundsKind.withdrawal.value).inc()
            started.append(str(withdrawal.id))
        else:
            await asyncio.to_thread(mark_started, ctx.engine, Withdrawal, withdrawal.id)
    return started
