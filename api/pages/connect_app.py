"""The Connect app (`/app`): connect banks, watch their progress, read the main screen.

Every number comes from the same services as `/api/dashboard` and `/api/transactions/…`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.pages.render import back, page
from api.pages.session import PageConnectUser
from connect import data, insights, onboarding
from connect.connections import BANK_NAMES, connections_of
from connect.dashboard import dashboard_document
from contracts.connect import BANK_CODES, ConnectionStatus
from core.errors import DomainError
from models.dashboard import DashboardPublic

router = APIRouter(include_in_schema=False)
IN_PROGRESS = {ConnectionStatus.consent_pending, ConnectionStatus.sync_in_progress}
# After "connect", the bank list keeps polling this many times even before work shows up.
WATCH_POLLS = 15


def _screen(request: Request, user_id: uuid.UUID) -> dict[str, Any]:
    ctx = request.app.state.ctx
    # The stored document, as GET /api/dashboard serves it.
    board = DashboardPublic.model_validate_json(dashboard_document(ctx.engine, user_id))
    with Session(ctx.engine) as session:
        summary = insights.transactions_summary(session, user_id=user_id, period="30d")
        recent = data.transactions_page(
            session,
            user_id=user_id,
            date_from=None,
            date_to=None,
            account_id=None,
            page=1,
            page_size=10,
        )
    spending = summary.currencies[0].spending_by_category if summary.currencies else []
    top = max((row.amount_minor for row in spending), default=0)
    return {"board": board, "spending": spending, "top": top, "recent": recent.items}


@router.get("/app", response_class=HTMLResponse)
async def home(request: Request, user: PageConnectUser, watch: int = 0) -> HTMLResponse:
    """The main screen: banks, Safe-to-Spend, health, debts, spending and forecast."""
    screen = await run_in_threadpool(_screen, request, user.id)
    return page(
        request, "app/home.html", user, names=BANK_NAMES, codes=BANK_CODES, watch=watch, **screen
    )


@router.get("/app/banks", response_class=HTMLResponse)
async def banks(request: Request, user: PageConnectUser, watch: int = 0) -> HTMLResponse:
    """The banks' progress (polled by the page while anything is in flight)."""
    ctx = request.app.state.ctx

    def read() -> list[object]:
        with Session(ctx.engine) as session:
            return list(connections_of(session, user_id=user.id))

    rows = await run_in_threadpool(read)
    busy = any(getattr(b, "status", None) in IN_PROGRESS for b in rows)
    watch = max(0, min(watch, WATCH_POLLS))
    return page(
        request, "app/_banks.html", user, banks=rows, names=BANK_NAMES, busy=busy, watch=watch
    )


@router.post("/app/connect")
async def connect(
    request: Request,
    user: PageConnectUser,
    banks: Annotated[list[str], Form()],
    sandbox_sign: Annotated[bool, Form()] = False,
) -> Response:
    """Start connecting the chosen banks."""
    chosen = [bank for bank in dict.fromkeys(banks) if bank in BANK_CODES]
    if not chosen:
        return back("/app", error="Choose at least one bank")
    ctx = request.app.state.ctx
    try:
        client = await ctx.temporal.get()
        await onboarding.start_onboarding(
            ctx, client, user_id=user.id, banks=chosen, sign=sandbox_sign
        )
    except DomainError as exc:
        return back("/app", error=exc.message)
    names = ", ".join(BANK_NAMES[b] for b in chosen)
    return back(f"/app?watch={WATCH_POLLS}", notice="Connecting " + names)


@router.post("/app/banks/{bank_code}/check")
async def check(request: Request, user: PageConnectUser, bank_code: str) -> Response:
    """ "I approved it in my bank": the waiting consent is checked now."""
    ctx = request.app.state.ctx
    try:
        client = await ctx.temporal.get()
        await onboarding.check_consent(ctx, client, user_id=user.id, bank_code=bank_code)
    except DomainError as exc:
        return back("/app", error=exc.message)
    name = BANK_NAMES.get(bank_code, bank_code)
    return back(f"/app?watch={WATCH_POLLS}", notice=f"Checking {name} now")


@router.post("/app/banks/{bank_code}/reconnect")
async def reconnect(request: Request, user: PageConnectUser, bank_code: str) -> Response:
    """Ask the bank for a new consent (after a revoke, an expiry or an error)."""
    ctx = request.app.state.ctx
    try:
        client = await ctx.temporal.get()
        await onboarding.connect_bank(ctx, client, user_id=user.id, bank_code=bank_code, sign=False)
    except DomainError as exc:
        return back("/app", error=exc.message)
    name = BANK_NAMES.get(bank_code, bank_code)
    return back(f"/app?watch={WATCH_POLLS}", notice=f"Reconnecting {name}")
