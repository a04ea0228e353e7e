"""The trader desk's notification list: the newest of mine, polled by the desk every few
seconds (htmx), and "mark all read". Same service as `/api/me/notifications`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.pages.render import back, page
from api.pages.session import PageTrader
from models.notifications import MarkRead, NotificationPage
from processing.notifications import inbox

router = APIRouter(include_in_schema=False)


@router.get("/trader/notifications", response_class=HTMLResponse)
async def notifications(request: Request, user: PageTrader) -> HTMLResponse:
    """My ten newest notifications (the desk's panel, refreshed every few seconds)."""
    ctx = request.app.state.ctx

    def read() -> NotificationPage:
        with Session(ctx.engine) as session:
            return inbox.page(session, user.id, None, 10)

    listed = await run_in_threadpool(read)
    return page(request, "trader/_notifications.html", user, notifications=listed)


@router.post("/trader/notifications/read")
async def mark_all_read(request: Request, user: PageTrader) -> Response:
    """Mark all my notifications read."""
    ctx = request.app.state.ctx

    def mark() -> int:
        with Session(ctx.engine) as session:
            return inbox.mark_read(session, user.id, MarkRead())

    await run_in_threadpool(mark)
    return back("/trader")
