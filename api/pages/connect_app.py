"""The Connect app (`/app`): connect banks, watch their progress, read the main screen.

Every number comes from the same services as `/api/dashboard` and `/api/transactions/…`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.accounts import LoginRefused, check_login
from api.pages import connect_charts
from api.pages.connect_screen import (
    HEALTH_PARTS,
    account_name,
    bank_name,
    category_name,
    day_text,
    debt_share_sentence,
    health_note,
    minor_of,
    money_text,
    recent_lines,
    safe_to_spend_steps,
    shows_progress,
)
from api.pages.render import back, page
from api.pages.session import PageConnectUser, sign_out
from api.ratelimit import client_ip
from connect import data, erasure, insights, onboarding
from connect.connections import BANK_NAMES, connections_of
from connect.dashboard import dashboard_document
from contracts.connect import BANK_CODES, ConnectionStatus
from core.errors import DomainError
from models.analytics_views import sections
from models.dashboard import DashboardPublic
from models.users import PhoneChange
from processing.accounts.users import set_phone

router = APIRouter(include_in_schema=False)
IN_PROGRESS = {ConnectionStatus.consent_pending, ConnectionStatus.sync_in_progress}
# After "connect", the bank list keeps polling this many times even before work shows up.
WATCH_POLLS = 15


def _screen(request: Request, user_id: uuid.UUID, shown: str = "") -> dict[str, Any] | None:
    """Everything the main screen shows; None when it shows the analysis `shown` already
    and more may come."""
    ctx = request.app.state.ctx
    # The stored document, as GET /api/dashboard serves it.
    board = DashboardPublic.model_validate_json(dashboard_document(ctx.engine, user_id))
    if _shown_again(board, shown):
        return None
    if board.metrics is None:
        return {"board": board, "progress": shows_progress(board)}
    with Session(ctx.engine) as session:
        summary = insights.transactions_summary(session, user_id=user_id, period="30d")
        snapshot = insights.latest_snapshot(session, user_id)
        products = insights.products(session, user_id=user_id).products
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
    steps, left_out = safe_to_spend_steps(board.metrics, board.accounts)
    return {
        "board": board,
        "spending": [(category_name(row.category), row) for row in spending],
        "top": top,
        "recent": recent_lines(recent.items, board.accounts),
        "accounts": [(account_name(acc), acc) for acc in board.accounts],
        "steps": steps,
        "left_out": left_out,
        "debt_share": debt_share_sentence(board.metrics),
        "parts": HEALTH_PARTS,
        "amount": money_text,
        "day": day_text,
        "health_note": health_note,
        "minor_of": minor_of,
        "bank_name": bank_name,
        "charts": _charts(board, snapshot.data if snapshot else {}, products),
    }


def _charts(board: DashboardPublic, stored: dict[str, Any], products: Any) -> dict[str, Any]:
    """The dashboard's charts from the stored analysis (primary currency)."""
    assert board.metrics is not None
    section = next(iter(sections(stored)), None) if stored else None
    return {
        "health": connect_charts.health_gauge(board.metrics.health),
        "forecast": connect_charts.forecast_line(
            section["forecast"]["days"] if section else [], board.metrics.currency
        ),
        "debts": connect_charts.debts_bar(products),
        "spending": connect_charts.spending_by_month(
            section["spending_by_category_month"] if section else {}
        ),
    }


def _shown_again(board: DashboardPublic, shown: str) -> bool:
    """The page already shows this analysis and more may come: nothing to swap yet."""
    current = str(board.snapshot.id) if board.snapshot else ""
    return bool(shown) and shown == current and board.refreshing


@router.get("/app", response_class=HTMLResponse)
async def home(request: Request, user: PageConnectUser, watch: int = 0) -> HTMLResponse:
    """The main screen: banks, Safe-to-Spend, health, debts, spending and forecast."""
    screen = await run_in_threadpool(_screen, request, user.id)
    assert screen is not None
    return page(
        request, "app/home.html", user, names=BANK_NAMES, codes=BANK_CODES, watch=watch, **screen
    )


@router.get("/app/board", response_class=HTMLResponse)
async def board(
    request: Request, user: PageConnectUser, watch: int = 0, shown: str = ""
) -> Response:
    """The analysis part of the main screen, polled while banks are in flight: progress
    until the first analysis exists, then the dashboard, swapped in without a reload.
    204 (htmx keeps what it shows) while the analysis shown is still the newest."""
    screen = await run_in_threadpool(_screen, request, user.id, shown)
    if screen is None:
        return Response(status_code=204)
    watch = max(0, min(watch, WATCH_POLLS))
    return page(request, "app/_board.html", user, watch=watch, **screen)


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


BankStep = Callable[[Any, Any], Awaitable[object]]


async def _bank_step(request: Request, bank_code: str, step: BankStep, notice: str) -> Response:
    """Run one action on a bank (given the context and the Temporal client), then back to
    the app, which watches the banks for a while; `notice` may name the bank as {name}."""
    ctx = request.app.state.ctx
    try:
        await step(ctx, await ctx.temporal.get())
    except DomainError as exc:
        return back("/app", error=exc.message)
    name = BANK_NAMES.get(bank_code, bank_code)
    return back(f"/app?watch={WATCH_POLLS}", notice=notice.format(name=name))


@router.post("/app/banks/{bank_code}/check")
async def check(request: Request, user: PageConnectUser, bank_code: str) -> Response:
    """ "I approved it in my bank": the waiting consent is checked now."""

    async def step(ctx: Any, client: Any) -> object:
        return await onboarding.check_consent(ctx, client, user_id=user.id, bank_code=bank_code)

    return await _bank_step(request, bank_code, step, "Checking {name} now")


@router.post("/app/banks/{bank_code}/reconnect")
async def reconnect(request: Request, user: PageConnectUser, bank_code: str) -> Response:
    """Ask the bank for a new consent (after a revoke, an expiry or an error)."""

    async def step(ctx: Any, client: Any) -> object:
        return await onboarding.connect_bank(
            ctx, client, user_id=user.id, bank_code=bank_code, sign=False
        )

    return await _bank_step(request, bank_code, step, "Reconnecting {name}")


@router.post("/app/banks/{bank_code}/disconnect")
async def disconnect(request: Request, user: PageConnectUser, bank_code: str) -> Response:
    """Withdraw the bank's consents at the bank and delete what was synced from it."""

    async def step(ctx: Any, client: Any) -> object:
        return await erasure.disconnect_bank(ctx, client, user_id=user.id, bank_code=bank_code)

    notice = "{name} disconnected: its data is deleted and its consent withdrawn"
    return await _bank_step(request, bank_code, step, notice)


@router.post("/app/delete-my-data")
async def delete_my_data(
    request: Request, user: PageConnectUser, password: Annotated[str, Form()] = ""
) -> Response:
    """Everything of the person's deleted, after their password (throttled like a sign-in);
    then signed out."""
    ctx = request.app.state.ctx
    try:
        await check_login(
            ctx.engine,
            request.app.state.rate_limits,
            email=user.email,
            password=password,
            ip=client_ip(request),
        )
    except LoginRefused as exc:
        wrong = exc.code == "invalid_credentials"
        message = "That password is not right" if wrong else exc.message
        return back("/app", error=message + ": nothing was deleted")
    try:
        client = await ctx.temporal.get()
        await erasure.delete_everything(ctx, client, user.id)
    except DomainError as exc:
        return back("/app", error=exc.message)
    response = back("/login", notice="Your data is deleted and your account closed")
    sign_out(response)
    return response


@router.get("/app/profile", response_class=HTMLResponse)
async def profile(request: Request, user: PageConnectUser) -> HTMLResponse:
    """Who the person is to us: email, name, phone, and the sign-in before this one."""
    return page(request, "app/profile.html", user, me=user)


@router.post("/app/profile/phone")
async def change_phone(
    request: Request, user: PageConnectUser, phone: Annotated[str, Form()] = ""
) -> Response:
    """Set or remove the phone number (Post/Redirect/Get)."""
    try:
        body = PhoneChange(phone=phone)
    except ValidationError:
        return back(
            "/app/profile",
            error="Write the phone number with + and the country code, like +7 912 345-67-89",
        )
    ctx = request.app.state.ctx

    def save() -> None:
        with Session(ctx.engine) as session:
            set_phone(session, user_id=user.id, body=body)

    await run_in_threadpool(save)
    return back("/app/profile", notice="Phone number saved" if body.phone else "Phone removed")
