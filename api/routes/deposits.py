"""Deposits: traders and merchants ask to top up (`/api/trader|merchant/deposits`), staff
approve or reject them (`/api/admin/deposits`, two different approvers above the threshold),
and an admin's direct deposit to a trader or store (`/api/admin/traders|stores/{id}/deposit`).
Every staff action is audited with the status before and after."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from temporalio.client import Client

from api.audit import action_of, audit_admin_writes, audit_request_action
from api.deps import (
    ContextDep,
    CurrentMerchant,
    CurrentStaff,
    CurrentTraderProfile,
    FundsApprover,
    PlatformDep,
    SessionDep,
    TemporalDep,
)
from api.uploads import read_upload
from contracts.funds import DepositStatus, FundsUpdate, OwnerKind
from core.context import ServiceContext
from models.funds import DepositCreate, DepositPublic, DepositsPage, FundsDecision
from models.payins import BalancePublic, DepositRequest
from models.platform_settings import PlatformValues
from processing.accounts.merchants import merchant_of, owned_store
from processing.funds import deposits
from processing.funds.common import STAFF, Owner, Scope

trader_router = APIRouter()
merchant_router = APIRouter()
admin_router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=100_000)]
Proof = Annotated[UploadFile | None, File(description="PNG, JPEG or PDF, ≤ 5 MiB")]
CREATED: dict[int | str, dict[str, Any]] = {200: {"description": "The same reference again"}}
NAMED_STORE: dict[int | str, dict[str, Any]] = {404: {"description": "No such store of yours"}}


@trader_router.post("/deposits", status_code=201, response_model=DepositPublic, responses=CREATED)
async def trader_deposit(
    body: Annotated[DepositCreate, Form()],
    response: Response,
    ctx: ContextDep,
    client: TemporalDep,
    platform: PlatformDep,
    trader: CurrentTraderProfile,
    proof: Proof = None,
) -> DepositPublic:
    """Ask to top up my balance: amount, currency, the transaction hash or a proof file."""
    owner = Owner(OwnerKind.trader, trader.id)
    return await _requested(ctx, client, platform, owner, body, proof, response)


@trader_router.get("/deposits", response_model=DepositsPage)
def trader_deposits(
    session: SessionDep, trader: CurrentTraderProfile, limit: Limit = 50, offset: Offset = 0
) -> DepositsPage:
    """My deposit requests, newest first."""
    scope = Scope(Owner(OwnerKind.trader, trader.id))
    return deposits.page(session, scope, None, limit, offset)


@trader_router.get("/deposits/{deposit_id}", response_model=DepositPublic)
def trader_deposit_one(
    deposit_id: uuid.UUID, ctx: ContextDep, trader: CurrentTraderProfile
) -> DepositPublic:
    """One of my deposit requests."""
    return deposits.read(ctx, deposit_id, Scope(Owner(OwnerKind.trader, trader.id)))


@merchant_router.post(
    "/deposits", status_code=201, response_model=DepositPublic, responses=CREATED | NAMED_STORE
)
async def merchant_deposit(
    body: Annotated[DepositCreate, Form()],
    store_id: Annotated[uuid.UUID, Form()],
    response: Response,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    platform: PlatformDep,
    user: CurrentMerchant,
    proof: Proof = None,
) -> DepositPublic:
    """Ask to top up one of my stores' balance (name the store)."""

    def load() -> Owner:
        store = owned_store(session, user_id=user.id, store_id=store_id)
        session.commit()
        return Owner(OwnerKind.store, store.id, store.merchant_id)

    owner = await run_in_threadpool(load)
    return await _requested(ctx, client, platform, owner, body, proof, response)


async def _requested(
    ctx: ServiceContext,
    client: Client,
    platform: PlatformValues,
    owner: Owner,
    body: DepositCreate,
    proof: UploadFile | None,
    response: Response,
) -> DepositPublic:
    """The request; 200 instead of 201 when this reference was already sent."""
    data = await read_upload(proof)
    shown, created = await deposits.request(
        ctx, client, owner=owner, body=body, proof=data, platform=platform
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return shown


@merchant_router.get("/deposits", response_model=DepositsPage)
def merchant_deposits(
    session: SessionDep, user: CurrentMerchant, limit: Limit = 50, offset: Offset = 0
) -> DepositsPage:
    """My stores' deposit requests, newest first."""
    scope = Scope(merchant_id=merchant_of(session, user_id=user.id).id)
    return deposits.page(session, scope, None, limit, offset)


@merchant_router.get("/deposits/{deposit_id}", response_model=DepositPublic)
def merchant_deposit_one(
    deposit_id: uuid.UUID, session: SessionDep, ctx: ContextDep, user: CurrentMerchant
) -> DepositPublic:
    """One of my stores' deposit requests."""
    scope = Scope(merchant_id=merchant_of(session, user_id=user.id).id)
    return deposits.read(ctx, deposit_id, scope)


@admin_router.get("/deposits", response_model=DepositsPage)
def staff_deposits(
    session: SessionDep,
    _: CurrentStaff,
    status: DepositStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DepositsPage:
    """Every deposit request, newest first, optionally by status (e.g. `requested`)."""
    return deposits.page(session, STAFF, status, limit, offset)


@admin_router.get("/deposits/{deposit_id}", response_model=DepositPublic)
def staff_deposit(deposit_id: uuid.UUID, ctx: ContextDep, _: CurrentStaff) -> DepositPublic:
    """Any deposit request."""
    return deposits.read(ctx, deposit_id, STAFF)


async def _decide(
    ctx: ServiceContext,
    client: Client,
    request: Request,
    deposit_id: uuid.UUID,
    update: FundsUpdate,
    actor: uuid.UUID,
    reason: str | None,
) -> DepositPublic:
    before = await run_in_threadpool(deposits.read, ctx, deposit_id, STAFF)
    act = deposits.decide(
        ctx, client, deposit_id=deposit_id, update=update, actor_id=actor, reason=reason
    )
    return await audit_request_action(
        act, request, ctx.engine, actor=actor, target_type="Deposit", before=before
    )


@admin_router.post("/deposits/{deposit_id}/approve", response_model=DepositPublic)
async def approve_deposit(
    deposit_id: uuid.UUID,
    request: Request,
    ctx: ContextDep,
    client: TemporalDep,
    user: FundsApprover,
    body: FundsDecision | None = None,
) -> DepositPublic:
    """Confirm a deposit (credited at once at or below the threshold; above it a second,
    different admin's approval credits it; the same admin again is 409 `same_approver`)."""
    reason = body.reason if body else None
    return await _decide(ctx, client, request, deposit_id, FundsUpdate.approve, user.id, reason)


@admin_router.post("/deposits/{deposit_id}/reject", response_model=DepositPublic)
async def reject_deposit(
    deposit_id: uuid.UUID,
    request: Request,
    ctx: ContextDep,
    client: TemporalDep,
    user: FundsApprover,
    body: FundsDecision | None = None,
) -> DepositPublic:
    """Reject a deposit request that is not credited yet."""
    reason = body.reason if body else None
    return await _decide(ctx, client, request, deposit_id, FundsUpdate.reject, user.id, reason)


# Under the audited writes: the request session's rows (a deposit request) are audited, and
# a posting made at once is audited by the service.
AUDITED = [Depends(audit_admin_writes)]


@admin_router.post(
    "/traders/{trader_id}/deposit",
    response_model=BalancePublic,
    responses=deposits.DEPOSIT_ABOVE,
    dependencies=AUDITED,
)
async def deposit_to_trader(
    trader_id: uuid.UUID,
    body: DepositRequest,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    platform: PlatformDep,
    user: FundsApprover,
) -> BalancePublic:
    """Credit a trader's balance from platform funding (idempotent per reference); above the
    approval threshold: 202 with a deposit request this admin confirmed, credited once a
    second, different admin approves it."""
    owner = Owner(OwnerKind.trader, trader_id)
    return await deposits.admin_deposit(
        ctx, client, session, owner=owner, body=body, admin_id=user.id, platform=platform,
        action=action_of(request),
    )  # fmt: skip


@admin_router.post(
    "/stores/{store_id}/deposit",
    response_model=BalancePublic,
    responses=deposits.DEPOSIT_ABOVE,
    dependencies=AUDITED,
)
async def deposit_to_store(
    store_id: uuid.UUID,
    body: DepositRequest,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    platform: PlatformDep,
    user: FundsApprover,
) -> BalancePublic:
    """Credit a store's balance for pay-outs (idempotent per reference, in the store's
    currency); above the approval threshold: 202 with a deposit request this admin confirmed,
    credited once a second, different admin approves it."""
    owner = Owner(OwnerKind.store, store_id)
    return await deposits.admin_deposit(
        ctx, client, session, owner=owner, body=body, admin_id=user.id, platform=platform,
        action=action_of(request),
    )  # fmt: skip
