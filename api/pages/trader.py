"""The trader desk (`/trader`): open orders as they arrive, confirm or cancel, go online or
offline, balances and requisites with today's turnover. Same services as `/api/trader`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.pages.render import QUEUED, back, page
from api.pages.session import PageTrader
from api.pages.trader_work import trader_id_of, work
from contracts.processing import ActorRequest, ActorType
from core.errors import DomainError, Pending
from models.base import utcnow
from processing.accounts import collateral, traders
from processing.orders import actions
from processing.orders.matching import usage_of
from processing.orders.payins import Owner

router = APIRouter(include_in_schema=False)
MIN_REASON, MAX_REASON = 3, 500  # the API's bounds for a cancel reason


def _desk(request: Request, user_id: uuid.UUID) -> dict[str, Any]:
    ctx = request.app.state.ctx
    with Session(ctx.engine, expire_on_commit=False) as session:
        trader = traders.trader_of(session, user_id=user_id)
        requisites = traders.requisites(session, trader_id=trader.id)
        now = utcnow()
        turnover = {r.id: usage_of(session, r.id, now).day_turnover for r in requisites}
        return {
            "trader": trader,
            "orders": traders.open_orders(session, trader_id=trader.id),
            "collateral": collateral.collateral_of(session, trader.id),
            "requisites": requisites,
            "turnover": turnover,
        }


@router.get("/trader", response_class=HTMLResponse)
async def desk(request: Request, user: PageTrader) -> HTMLResponse:
    """Open orders, balances, requisites and the online switch."""
    data = await run_in_threadpool(_desk, request, user.id)
    data |= await run_in_threadpool(work, request, user.id)
    return page(request, "trader/desk.html", user, **data)


@router.get("/trader/orders", response_class=HTMLResponse)
async def orders(request: Request, user: PageTrader) -> HTMLResponse:
    """The open orders alone (refreshed by the page every few seconds)."""
    desk_data = await run_in_threadpool(_desk, request, user.id)
    return page(request, "trader/_orders.html", user, orders=desk_data["orders"])


@router.post("/trader/status")
async def switch(
    request: Request, user: PageTrader, online: Annotated[bool, Form()] = False
) -> Response:
    """Go online (take new orders) or offline."""
    ctx = request.app.state.ctx

    def save() -> None:
        with Session(ctx.engine) as session:
            traders.set_online(session, user_id=user.id, online=online)

    try:
        await run_in_threadpool(save)
    except DomainError as exc:  # below the minimum working balance
        return back("/trader", error=exc.message)
    return back("/trader", notice="You are online" if online else "You are offline")


@router.post("/trader/orders/{order_id}/confirm")
async def confirm(request: Request, user: PageTrader, order_id: uuid.UUID) -> Response:
    """The money arrived: complete the order."""
    ctx = request.app.state.ctx
    trader_id = await trader_id_of(request, user.id)
    try:
        client = await ctx.temporal.get()
        done = await actions.trader_confirm(
            ctx, client, trader_id=trader_id, order_id=order_id, receipt=None
        )
    except Pending:
        return back("/trader", notice=QUEUED)
    except DomainError as exc:
        return back("/trader", error=exc.message)
    return back("/trader", notice=f"Order {done.amount} {done.currency}: {done.status.value}")


@router.post("/trader/orders/{order_id}/cancel")
async def cancel(
    request: Request,
    user: PageTrader,
    order_id: uuid.UUID,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Cancel an order before confirming it, with a reason."""
    if not MIN_REASON <= len(reason.strip()) <= MAX_REASON:
        words = f"Write a reason of {MIN_REASON} to {MAX_REASON} characters to cancel an order"
        return back("/trader", error=words)
    ctx = request.app.state.ctx
    trader_id = await trader_id_of(request, user.id)
    actor = ActorRequest(ActorType.trader.value, str(trader_id), reason)
    try:
        client = await ctx.temporal.get()
        await actions.cancel(
            ctx, client, order_id=order_id, actor=actor, owner=Owner(trader_id=trader_id)
        )
    except Pending:
        return back("/trader", notice=QUEUED)
    except DomainError as exc:
        return back("/trader", error=exc.message)
    return back("/trader", notice="Order cancelled")
