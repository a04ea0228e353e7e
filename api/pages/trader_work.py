"""The trader desk's other work: pay-outs to take and to pay (with the proof), and the
statement bridge ("money arrived: confirm?" from the trader's own bank). Same services as
`/api/trader/payouts` and `/api/trader/statement`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.pages.render import QUEUED, back, back_from, page
from api.pages.session import PageTrader
from api.uploads import read_upload
from core.errors import DomainError, Pending
from models.statement import StatementView
from processing.accounts import traders
from processing.bridge import links as statement_links
from processing.orders import payouts

router = APIRouter(include_in_schema=False)


def work(request: Request, user_id: uuid.UUID) -> dict[str, Any]:
    """What the desk shows besides pay-ins (pay-out offers only to traders who take them)."""
    ctx = request.app.state.ctx
    with Session(ctx.engine, expire_on_commit=False) as session:
        trader = traders.trader_of(session, user_id=user_id)
        takes = trader.is_active and trader.payout_enabled
        return {
            "offers": payouts.available(session, trader_id=trader.id) if takes else [],
            "my_payouts": payouts.mine(session, trader_id=trader.id),
            "statement": statement_links.view(session, trader),
        }


async def trader_id_of(request: Request, user_id: uuid.UUID) -> uuid.UUID:
    ctx = request.app.state.ctx

    def load() -> uuid.UUID:
        with Session(ctx.engine) as session:
            return traders.trader_of(session, user_id=user_id).id

    return await run_in_threadpool(load)


@router.get("/trader/statement", response_class=HTMLResponse)
async def statement(request: Request, user: PageTrader) -> HTMLResponse:
    """The statement panel alone (refreshed by the desk every few seconds: reads only it)."""
    ctx = request.app.state.ctx

    def read() -> StatementView:
        with Session(ctx.engine) as session:
            return statement_links.view(session, traders.trader_of(session, user_id=user.id))

    return page(request, "trader/_statement.html", user, statement=await run_in_threadpool(read))


@router.post("/trader/payouts/{order_id}/take")
async def take(request: Request, user: PageTrader, order_id: uuid.UUID) -> Response:
    """Take a pay-out from the pool (one trader wins); then pay it from its page."""
    ctx = request.app.state.ctx
    trader_id = await trader_id_of(request, user.id)
    try:
        client = await ctx.temporal.get()
        await payouts.take(ctx, client, trader_id=trader_id, order_id=order_id)
    except Pending:
        return back("/trader", notice=QUEUED)
    except DomainError as exc:
        return back("/trader", error=exc.message)
    return back(f"/trader/payouts/{order_id}", notice="Taken: pay the recipient, then mark it paid")


@router.get("/trader/payouts/{order_id}", response_class=HTMLResponse)
async def payout(request: Request, user: PageTrader, order_id: uuid.UUID) -> HTMLResponse:
    """A pay-out I took: while it is mine to pay, the recipient in full and the paid form."""
    ctx = request.app.state.ctx
    trader_id = await trader_id_of(request, user.id)
    shown = await run_in_threadpool(payouts.read_for_trader, ctx, trader_id, order_id)
    return page(request, "trader/payout.html", user, payout=shown)


@router.post("/trader/payouts/{order_id}/paid")
async def paid(
    request: Request,
    user: PageTrader,
    order_id: uuid.UUID,
    proof: Annotated[UploadFile, File()],
) -> Response:
    """I paid the recipient: the proof (PNG, JPEG or PDF, ≤ 5 MiB) is required."""
    ctx = request.app.state.ctx
    trader_id = await trader_id_of(request, user.id)
    data = await read_upload(proof)
    try:
        client = await ctx.temporal.get()
        done = await payouts.mark_paid(
            ctx, client, trader_id=trader_id, order_id=order_id, proof=data
        )
    except Pending:
        return back_from(request, "/trader", notice=QUEUED)
    except DomainError as exc:
        return back_from(request, f"/trader/payouts/{order_id}", error=exc.message)
    notice = f"Pay-out {done.amount} {done.currency}: {done.status.value}"
    return back_from(request, "/trader", notice=notice)
