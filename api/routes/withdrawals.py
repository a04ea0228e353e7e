"""Withdrawals: traders (`/api/trader`), merchants (`/api/merchant`, naming the store) and
stores over the gateway (`/api/gateway`, `X-API-Key` and `Idempotency-Key`) ask to withdraw,
read and cancel (before approval) their own; staff approve, reject, pay and, to pay, see the
full destination (`/api/admin/withdrawals`). Every staff action is audited."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from temporalio.client import Client

from api.audit import audit_request_action, record
from api.deps import (
    ContextDep,
    CurrentMerchant,
    CurrentStaff,
    CurrentStore,
    CurrentTraderProfile,
    FundsApprover,
    PlatformDep,
    SessionDep,
    TemporalDep,
)
from api.uploads import read_upload
from contracts.funds import FundsUpdate, OwnerCancel, OwnerKind, PaidRequest, StaffDecision
from contracts.funds import WithdrawalStatus as Status
from core.context import ServiceContext
from core.errors import Invalid
from models.funds import (
    DestinationRevealed,
    FundsDecision,
    MerchantWithdrawalCreate,
    WithdrawalCreate,
    WithdrawalPublic,
    WithdrawalsPage,
)
from models.platform_settings import PlatformValues
from processing.accounts.merchants import merchant_of, owned_store
from processing.funds import withdrawals
from processing.funds.common import STAFF, Owner, Scope, store_proof

trader_router = APIRouter()
merchant_router = APIRouter()
gateway_router = APIRouter()
admin_router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=100_000)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="The same key again (for the same balance) answers with the same withdrawal"
        " (`Idempotent-Replayed: true`), holding nothing more; with another body 409"
        " `idempotency_key_reused`",
    ),
]
REFUSALS = "422 `insufficient_balance` when the available balance does not cover amount + fee"


async def _create(
    ctx: ServiceContext,
    client: Client,
    platform: PlatformValues,
    owner: Owner,
    body: WithdrawalCreate,
    key: str | None,
    response: Response,
) -> WithdrawalPublic:
    shown, created = await withdrawals.request(
        ctx, client, owner=owner, body=body, key=key, platform=platform
    )
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return shown


async def _cancel(
    ctx: ServiceContext, client: Client, scope: Scope, withdrawal_id: uuid.UUID, actor: str,
    actor_id: uuid.UUID,
) -> WithdrawalPublic:  # fmt: skip
    return await withdrawals.act(
        ctx,
        client,
        withdrawal_id=withdrawal_id,
        scope=scope,
        update=FundsUpdate.cancel,
        request=OwnerCancel(actor, str(actor_id)),
    )


# -- traders -------------------------------------------------------------------------------
def _trader(trader_id: uuid.UUID) -> Scope:
    return Scope(Owner(OwnerKind.trader, trader_id))


@trader_router.post("/withdrawals", status_code=201, response_model=WithdrawalPublic)
async def trader_withdrawal(
    body: WithdrawalCreate,
    response: Response,
    ctx: ContextDep,
    client: TemporalDep,
    platform: PlatformDep,
    trader: CurrentTraderProfile,
    idempotency_key: IdempotencyKey = None,
) -> WithdrawalPublic:
    """Withdraw from my balance to a TRC-20 address or a card: amount + fee are held at once
    (422 `insufficient_balance` when the available balance does not cover them); the same
    `Idempotency-Key` again answers with the same withdrawal."""
    owner = Owner(OwnerKind.trader, trader.id)
    return await _create(ctx, client, platform, owner, body, idempotency_key, response)


@trader_router.get("/withdrawals", response_model=WithdrawalsPage)
def trader_withdrawals(
    session: SessionDep, trader: CurrentTraderProfile, limit: Limit = 50, offset: Offset = 0
) -> WithdrawalsPage:
    """My withdrawals, newest first (destinations masked)."""
    return withdrawals.page(session, _trader(trader.id), None, limit, offset)


@trader_router.get("/withdrawals/{withdrawal_id}", response_model=WithdrawalPublic)
def trader_withdrawal_one(
    withdrawal_id: uuid.UUID, ctx: ContextDep, trader: CurrentTraderProfile
) -> WithdrawalPublic:
    """One of my withdrawals."""
    return withdrawals.read(ctx, withdrawal_id, _trader(trader.id))


@trader_router.post("/withdrawals/{withdrawal_id}/cancel", response_model=WithdrawalPublic)
async def trader_cancel(
    withdrawal_id: uuid.UUID, ctx: ContextDep, client: TemporalDep, trader: CurrentTraderProfile
) -> WithdrawalPublic:
    """Cancel my withdrawal before it is approved (the hold is released)."""
    return await _cancel(ctx, client, _trader(trader.id), withdrawal_id, "trader", trader.id)


# -- merchants -----------------------------------------------------------------------------
@merchant_router.post(
    "/withdrawals",
    status_code=201,
    response_model=WithdrawalPublic,
    responses={404: {"description": "No such store of yours"}},
)
async def merchant_withdrawal(
    body: MerchantWithdrawalCreate,
    response: Response,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    platform: PlatformDep,
    user: CurrentMerchant,
    idempotency_key: IdempotencyKey = None,
) -> WithdrawalPublic:
    """Withdraw from one of my stores' balance (name the store); amount + fee are held at
    once (422 `insufficient_balance` when the available balance does not cover them); the
    same `Idempotency-Key` again (for that store) answers with the same withdrawal."""

    def load() -> Owner:
        store = owned_store(session, user_id=user.id, store_id=body.store_id)
        session.commit()
        return Owner(OwnerKind.store, store.id, store.merchant_id)

    owner = await run_in_threadpool(load)
    return await _create(ctx, client, platform, owner, body, idempotency_key, response)


def _merchant(session: SessionDep, user_id: uuid.UUID) -> Scope:
    return Scope(merchant_id=merchant_of(session, user_id=user_id).id)


@merchant_router.get("/withdrawals", response_model=WithdrawalsPage)
def merchant_withdrawals(
    session: SessionDep, user: CurrentMerchant, limit: Limit = 50, offset: Offset = 0
) -> WithdrawalsPage:
    """My stores' withdrawals, newest first."""
    return withdrawals.page(session, _merchant(session, user.id), None, limit, offset)


@merchant_router.get("/withdrawals/{withdrawal_id}", response_model=WithdrawalPublic)
def merchant_withdrawal_one(
    withdrawal_id: uuid.UUID, session: SessionDep, ctx: ContextDep, user: CurrentMerchant
) -> WithdrawalPublic:
    """One of my stores' withdrawals."""
    return withdrawals.read(ctx, withdrawal_id, _merchant(session, user.id))


@merchant_router.post("/withdrawals/{withdrawal_id}/cancel", response_model=WithdrawalPublic)
async def merchant_cancel(
    withdrawal_id: uuid.UUID,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    user: CurrentMerchant,
) -> WithdrawalPublic:
    """Cancel a store's withdrawal before it is approved (the hold is released)."""
    scope = await run_in_threadpool(_merchant, session, user.id)
    return await _cancel(ctx, client, scope, withdrawal_id, "merchant", user.id)


# -- the gateway ---------------------------------------------------------------------------
def _store(store_id: uuid.UUID) -> Scope:
    return Scope(Owner(OwnerKind.store, store_id))


@gateway_router.post("/withdrawals", status_code=201, response_model=WithdrawalPublic)
async def gateway_withdrawal(
    body: WithdrawalCreate,
    response: Response,
    store: CurrentStore,
    ctx: ContextDep,
    client: TemporalDep,
    platform: PlatformDep,
    idempotency_key: IdempotencyKey = None,
) -> WithdrawalPublic:
    """Withdraw from this store's balance; the same `Idempotency-Key` again answers with the
    same withdrawal (`Idempotent-Replayed: true`), with another body 409
    `idempotency_key_reused`. 422 `insufficient_balance` when amount + fee is not there."""
    owner = Owner(OwnerKind.store, store.id, store.merchant_id)
    return await _create(ctx, client, platform, owner, body, idempotency_key, response)


@gateway_router.get("/withdrawals", response_model=WithdrawalsPage)
def gateway_withdrawals(
    session: SessionDep, store: CurrentStore, limit: Limit = 50, offset: Offset = 0
) -> WithdrawalsPage:
    """This store's withdrawals, newest first."""
    return withdrawals.page(session, _store(store.id), None, limit, offset)


@gateway_router.get("/withdrawals/{withdrawal_id}", response_model=WithdrawalPublic)
def gateway_withdrawal_one(
    withdrawal_id: uuid.UUID, store: CurrentStore, ctx: ContextDep
) -> WithdrawalPublic:
    """A withdrawal of this store."""
    return withdrawals.read(ctx, withdrawal_id, _store(store.id))


@gateway_router.post("/withdrawals/{withdrawal_id}/cancel", response_model=WithdrawalPublic)
async def gateway_cancel(
    withdrawal_id: uuid.UUID, store: CurrentStore, ctx: ContextDep, client: TemporalDep
) -> WithdrawalPublic:
    """Cancel this store's withdrawal before it is approved (the hold is released)."""
    return await _cancel(ctx, client, _store(store.id), withdrawal_id, "merchant", store.id)


# -- staff ---------------------------------------------------------------------------------
@admin_router.get("/withdrawals", response_model=WithdrawalsPage)
def staff_withdrawals(
    session: SessionDep,
    _: CurrentStaff,
    status: Status | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> WithdrawalsPage:
    """Every withdrawal, newest first, optionally by status (e.g. `approved`: to pay)."""
    return withdrawals.page(session, STAFF, status, limit, offset)


@admin_router.get("/withdrawals/{withdrawal_id}", response_model=WithdrawalPublic)
def staff_withdrawal(
    withdrawal_id: uuid.UUID, ctx: ContextDep, _: CurrentStaff
) -> WithdrawalPublic:
    """Any withdrawal (destination masked)."""
    return withdrawals.read(ctx, withdrawal_id, STAFF)


async def _staff_act(
    ctx: ServiceContext,
    client: Client,
    request: Request,
    withdrawal_id: uuid.UUID,
    update: FundsUpdate,
    actor: uuid.UUID,
    arg: object,
) -> WithdrawalPublic:
    before = await run_in_threadpool(withdrawals.read, ctx, withdrawal_id, STAFF)
    act = withdrawals.act(
        ctx, client, withdrawal_id=withdrawal_id, scope=STAFF, update=update, request=arg
    )
    return await audit_request_action(
        act, request, ctx.engine, actor=actor, target_type="Withdrawal", before=before
    )


@admin_router.post("/withdrawals/{withdrawal_id}/approve", response_model=WithdrawalPublic)
async def approve_withdrawal(
    withdrawal_id: uuid.UUID,
    request: Request,
    ctx: ContextDep,
    client: TemporalDep,
    user: FundsApprover,
) -> WithdrawalPublic:
    """Approve a withdrawal (above the threshold the first approval is recorded and a second,
    different admin approves it; the same admin again is 409 `same_approver`)."""
    arg = StaffDecision(str(user.id))
    return await _staff_act(ctx, client, request, withdrawal_id, FundsUpdate.approve, user.id, arg)


@admin_router.post("/withdrawals/{withdrawal_id}/reject", response_model=WithdrawalPublic)
async def reject_withdrawal(
    withdrawal_id: uuid.UUID,
    request: Request,
    ctx: ContextDep,
    client: TemporalDep,
    user: FundsApprover,
    body: FundsDecision | None = None,
) -> WithdrawalPublic:
    """Reject a withdrawal not paid yet (the hold is released)."""
    arg = StaffDecision(str(user.id), body.reason if body else None)
    return await _staff_act(ctx, client, request, withdrawal_id, FundsUpdate.reject, user.id, arg)


@admin_router.post("/withdrawals/{withdrawal_id}/paid", response_model=WithdrawalPublic)
async def pay_withdrawal(
    withdrawal_id: uuid.UUID,
    request: Request,
    ctx: ContextDep,
    client: TemporalDep,
    user: FundsApprover,
    # A form part is there or not: no null (empty means "not sent").
    tx_hash: Annotated[str, Form(min_length=8, max_length=128)] = "",
    proof: Annotated[UploadFile | None, File(description="PNG, JPEG or PDF, ≤ 5 MiB")] = None,
) -> WithdrawalPublic:
    """I paid this approved withdrawal: the transaction hash or a proof file; it completes
    (owner −(amount + fee), platform payout +amount, platform profit +fee)."""
    data = await read_upload(proof)
    if not tx_hash and not data:
        raise Invalid("Send the transaction hash or a proof file", code="proof_required")
    await run_in_threadpool(withdrawals.read, ctx, withdrawal_id, STAFF)
    key = await store_proof(ctx, f"withdrawals/{withdrawal_id}", data) if data else None
    arg = PaidRequest(str(user.id), tx_hash or None, key)
    return await _staff_act(
        ctx, client, request, withdrawal_id, FundsUpdate.mark_paid, user.id, arg
    )


@admin_router.get("/withdrawals/{withdrawal_id}/destination", response_model=DestinationRevealed)
def reveal_destination(
    withdrawal_id: uuid.UUID, request: Request, ctx: ContextDep, user: FundsApprover
) -> DestinationRevealed:
    """The full destination of an approved withdrawal, to pay it (audited)."""
    shown = withdrawals.reveal(ctx, withdrawal_id)
    record(
        request,
        ctx.engine,
        actor=user.id,
        target_type="Withdrawal",
        target_id=str(withdrawal_id),
        before={},
        after={"revealed": shown.kind},
    )
    return shown
