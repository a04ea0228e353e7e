"""Driving Connect through the API and Temporal, and reading what it stored."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.connect import OnboardingInput, SyncInput, SyncResult, sync_workflow_id
from core.context import ServiceContext
from models.banking import BankTransaction, SyncRun
from models.users import Role
from tests.factories import Actor, create_user, login
from workflows.onboarding import OnboardingWorkflow
from workflows.sync import SyncWorkflow

ADMIN = {"X-Emulator-Admin": "emulator-admin"}


async def connect_user(api: httpx.AsyncClient, ctx: ServiceContext, slot: int) -> Actor:
    user = create_user(ctx.engine, Role.connect_user, external_client_id=f"team042-{slot}")
    return Actor(user.id, user.email, await login(api, user.email))


async def onboard(
    client: Client, ctx: ServiceContext, user_id: uuid.UUID, banks: list[str], **options: Any
) -> Any:
    """Run onboarding to its end (through Temporal, on the suite's worker)."""
    return await client.execute_workflow(
        OnboardingWorkflow.run,
        OnboardingInput(user_id=str(user_id), banks=banks, **options),
        id=f"onboarding-test-{uuid.uuid4().hex[:8]}",
        task_queue=ctx.settings.temporal_task_queue,
    )


async def sync(client: Client, ctx: ServiceContext, user_id: uuid.UUID, bank: str) -> SyncResult:
    return await client.execute_workflow(
        SyncWorkflow.run,
        SyncInput(str(user_id), bank),
        id=sync_workflow_id(str(user_id), bank),
        task_queue=ctx.settings.temporal_task_queue,
    )


def transactions_of(ctx: ServiceContext, user_id: uuid.UUID) -> list[BankTransaction]:
    with Session(ctx.engine) as session:
        query = select(BankTransaction).where(BankTransaction.user_id == user_id)
        return list(session.exec(query))


def sync_runs(ctx: ServiceContext, user_id: uuid.UUID) -> list[SyncRun]:
    with Session(ctx.engine) as session:
        query = select(SyncRun).where(SyncRun.user_id == user_id)
        return list(session.exec(query.order_by(col(SyncRun.started_at))))


async def wait_for_status(
    api: httpx.AsyncClient, headers: dict[str, str], done: set[str], limit_s: float = 60
) -> list[dict[str, Any]]:
    """Poll GET /api/onboarding/status like a user until every bank reaches a final state."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        banks = (await api.get("/api/onboarding/status", headers=headers)).json()["banks"]
        relevant = [b for b in banks if b["status"] != "not_connected"]
        if relevant and all(b["status"] in done for b in relevant):
            return banks
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"onboarding still running: {banks}")
        await asyncio.sleep(0.3)


async def emulator_admin(
    base_url: str, bank: str, path: str, body: dict[str, Any] | None = None
) -> Any:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(f"/{bank}/admin/{path}", json=body or {}, headers=ADMIN)
        response.raise_for_status()
        return response.json()
