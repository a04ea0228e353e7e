"""Trader API (JWT, role trader): work status, my open orders, confirm / cancel, requisites,
and pay-outs (offers, take, paid with proof)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from api.deps import ContextDep, CurrentTrader, CurrentTraderProfile, SessionDep, TemporalDep
from api.uploads import read_upload
from contracts.processing import ActorRequest, ActorType
from models.payins import BalancePublic, PayinPublic, TraderCancelRequest
from models.payouts import PayoutOffer, PayoutPublic
from models.traders import RequisiteCreate, RequisitePublic, Trader, TraderMe, TraderPublic
from processing.accounts import collateral, traders
from processing.orders import actions, payouts
from processing.orders.payins import Owner, read_payin

router = APIRouter()


@router.get("/me", response_model=TraderMe)
def me(session: SessionDep, trader: CurrentTraderProfile) -> TraderMe:
    """My profile: online or not (and why the platform set me offline), my collateral per
    currency (security deposit, working balance, the minimum to stay online)."""
    return collateral.trader_me(session, trader)


@router.post(
    "/online",
    response_model=TraderPublic,
    responses={409: {"description": "`below_min_working_balance`: top up first"}},
)
def go_online(session: SessionDep, user: CurrentTrader) -> Trader:
    """Start taking orders (only at or above the minimum working balance)."""
    return traders.set_online(session, user_id=user.id, online=True)


@router.post("/offline", response_model=TraderPublic)
def go_offline(session: SessionDep, user: CurrentTrader) -> Trader:
    """Stop taking new orders (open ones still need confirming)."""
    return traders.set_online(session, user_id=user.id, online=False)


@router.get("/balances", response_model=list[BalancePublic])
def balances(session: SessionDep, trader: CurrentTraderProfile) -> list[BalancePublic]:
    """My balances per currency: posted, held for open orders, available."""
    return traders.balances(session, trader_id=trader.id)


@router.get("/orders", response_model=list[PayinPublic])
def my_open_orders(session: SessionDep, trader: CurrentTraderProfile) -> list[PayinPublic]:
    """My orders that still need me: awaiting payment, claimed, or disputed."""
    return traders.open_orders(session, trader_id=trader.id)


@router.get("/orders/{order_id}", response_model=PayinPublic)
def my_order(order_id: uuid.UUID, ctx: ContextDep, trader: CurrentTraderProfile) -> PayinPublic:
    """One of my pay-ins, whatever its status (where a 202 action answer says to poll)."""
    return read_payin(ctx, order_id=order_id, owner=Owner(trader_id=trader.id))


@router.post("/orders/{order_id}/confirm", response_model=PayinPublic)
async def confirm_received(
    order_id: uuid.UUID,
    ctx: ContextDep,
    client: TemporalDep,
    trader: CurrentTraderProfile,
    receipt: Annotated[UploadFile | None, File()] = None,
) -> PayinPublic:
    """The money arrived on my requisite; optionally attach my own receipt."""
    data = await read_upload(receipt)
    return await actions.trader_confirm(
        ctx, client, trader_id=trader.id, order_id=order_id, receipt=data
    )


@router.post("/orders/{order_id}/cancel", response_model=PayinPublic)
async def cancel_order(
    order_id: uuid.UUID,
    body: TraderCancelRequest,
    ctx: ContextDep,
    client: TemporalDep,
    trader: CurrentTraderProfile,
) -> PayinPublic:
    """Cancel an order before confirming it, with a reason (audited)."""
    actor = ActorRequest(ActorType.trader.value, str(trader.id), body.reason)
    return await actions.cancel(
        ctx, client, order_id=order_id, actor=actor, owner=Owner(trader_id=trader.id)
    )


@router.post("/requisites", status_code=status.HTTP_201_CREATED, response_model=RequisitePublic)
def create_requisite(
    body: RequisiteCreate, session: SessionDep, ctx: ContextDep, trader: CurrentTraderProfile
) -> RequisitePublic:
    """Add a requisite; it takes orders once an admin approves it."""
    return traders.add_requisite(
        session,
        trader_id=trader.id,
        body=body,
        secrets=ctx.secrets,
        fingerprint_key=ctx.settings.fingerprint_secret,
    )


@router.get("/requisites", response_model=list[RequisitePublic])
def list_requisites(session: SessionDep, trader: CurrentTraderProfile) -> list[RequisitePublic]:
    """My requisites, numbers masked."""
    return traders.requisites(session, trader_id=trader.id)


@router.get(
    "/payouts/available",
    response_model=list[PayoutOffer],
    responses={409: {"description": "`trader_offline`: go online to see the pool"}},
)
def available_payouts(session: SessionDep, trader: CurrentTraderProfile) -> list[PayoutOffer]:
    """Pay-outs waiting for a trader in my currencies (recipient masked until I take one)."""
    return payouts.available(session, trader_id=trader.id)


@router.get("/payouts", response_model=list[PayoutPublic])
def my_payouts(session: SessionDep, trader: CurrentTraderProfile) -> list[PayoutPublic]:
    """My pay-outs that still need me: taken, paid under review, or disputed."""
    return payouts.mine(session, trader_id=trader.id)


@router.get("/payouts/{order_id}", response_model=PayoutPublic)
async def get_my_payout(
    order_id: uuid.UUID, ctx: ContextDep, trader: CurrentTraderProfile
) -> PayoutPublic:
    """A pay-out I took (while it is mine to pay, the recipient in full), or one in the pool
    I may take (where a take answered 202 says to poll)."""
    return await run_in_threadpool(payouts.read_for_trader, ctx, trader.id, order_id)


@router.post("/payouts/{order_id}/take", response_model=PayoutPublic)
async def take_payout(
    order_id: uuid.UUID, ctx: ContextDep, client: TemporalDep, trader: CurrentTraderProfile
) -> PayoutPublic:
    """Take a pay-out from the pool (one trader wins; 409 `already_taken` for the others).
    The answer shows the recipient in full: pay them, then mark it paid with the proof."""
    return await payouts.take(ctx, client, trader_id=trader.id, order_id=order_id)


@router.post("/payouts/{order_id}/paid", response_model=PayoutPublic)
async def payout_paid(
    order_id: uuid.UUID,
    ctx: ContextDep,
    client: TemporalDep,
    trader: CurrentTraderProfile,
    proof: Annotated[UploadFile, File()],
) -> PayoutPublic:
    """I paid the recipient: the proof of payment (PNG, JPEG or PDF, ≤ 5 MiB) is required."""
    data = await read_upload(proof)
    return await payouts.mark_paid(ctx, client, trader_id=trader.id, order_id=order_id, proof=data)
