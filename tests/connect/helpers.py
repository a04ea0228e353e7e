"""Driving Connect through the API and Temporal, and reading what it stored."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.connect import (
    OnboardingInput,
    SyncInput,
    SyncResult,
    onboarding_workflow_id,
    sync_workflow_id,
)
from core.context import ServiceContext
from models.banking import BankTransaction, SyncRun
from models.connect import Consent, ConsentKind, ConsentStatus
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
    workflow_id = f"onboarding-test-{uuid.uuid4().hex[:8]}"
    handle = await start_onboarding(client, ctx, user_id, banks, workflow_id, **options)
    return await handle.result()


async def start_onboarding(
    client: Client,
    ctx: ServiceContext,
    user_id: uuid.UUID,
    banks: list[str],
    workflow_id: str | None = None,
    **options: Any,
) -> Any:
    """Start an onboarding (by default with the id the app gives it) and return its handle."""
    return await client.start_workflow(
        OnboardingWorkflow.run,
        OnboardingInput(user_id=str(user_id), banks=banks, **options),
        id=workflow_id or onboarding_workflow_id(str(user_id)),
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


def emulator_of(ctx: ServiceContext) -> str:
    """The suite's emulator (the banks' base URLs are `{emulator}/{bank}`)."""
    return ctx.settings.bank_base_urls["vbank"].rsplit("/", 1)[0]


async def bank_answers(ctx: ServiceContext, bank: str, client_id: str) -> int:
    """What the bank answers our team about a client's accounts, no consent named: 200
    while it holds an active consent of theirs for us, 403 when none, 500 with two."""
    async with httpx.AsyncClient(base_url=f"{emulator_of(ctx)}/{bank}") as http:
        token = (
            await http.post(
                "/auth/bank-token",
                params={"client_id": "team042", "client_secret": "emulator-team-secret"},
            )
        ).json()["access_token"]
        probe = await http.get(
            "/accounts",
            params={"client_id": client_id},
            headers={"Authorization": f"Bearer {token}", "X-Requesting-Bank": "team042"},
        )
    return probe.status_code


async def wait_until(check: Any, limit_s: float = 30, what: str = "condition") -> Any:
    """Poll `check()` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{what} not reached in {limit_s} s")
        await asyncio.sleep(0.2)


def pending_request(ctx: ServiceContext, user_id: uuid.UUID, bank: str = "sbank") -> str | None:
    """The request id of the user's newest pending account consent at the bank, if any."""
    with Session(ctx.engine) as session:
        query = select(Consent).where(
            Consent.user_id == user_id,
            Consent.bank_code == bank,
            Consent.kind == ConsentKind.accounts,
            Consent.status == ConsentStatus.pending,
        )
        row = session.exec(query.order_by(col(Consent.created_at).desc())).first()
    return row.request_id if row else None


async def onboard_at_bank(
    api: httpx.AsyncClient, ctx: ServiceContext, client: Client, user: Actor
) -> None:
    """Connect SBank with its consent approved in the bank's own app (seen by our probe):
    the team holds only the request id."""
    handle = await client.start_workflow(
        OnboardingWorkflow.run,
        OnboardingInput(str(user.user_id), ["sbank"], poll_initial_seconds=0.5),
        id=onboarding_workflow_id(str(user.user_id)),
        task_queue=ctx.settings.temporal_task_queue,
    )
    request_id = await wait_until(lambda: pending_request(ctx, user.user_id), what="a request")
    await emulator_admin(emulator_of(ctx), "sbank", "consents/decide", {"request_id": request_id})
    banks = await wait_for_status(api, user.headers, {"ready", "error"})
    assert {b["bank_code"]: b["status"] for b in banks}["sbank"] == "ready", banks
    # The bank reads ready before the run ends (its analysis is still being built); a test's
    # next "I approved it" must reach the sync, not this run's last steps.
    await handle.result()
