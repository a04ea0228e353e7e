"""GET /api/dashboard: the one call a Connect client needs on its home screen."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import ContextDep, CurrentConnectUser
from connect.dashboard import dashboard_document
from models.dashboard import DashboardPublic

router = APIRouter()


# Returning the Response skips FastAPI's validation; the model documents the body.
@router.get("/dashboard", response_model=DashboardPublic)
async def dashboard(ctx: ContextDep, user: CurrentConnectUser) -> Response:
    """Safe-to-Spend, health score, debt, DSTI, forecast, accounts and bank statuses."""
    # The stored document, as stored: one query, no ORM objects, no models per request.
    body = await run_in_threadpool(dashboard_document, ctx.engine, user.id)
    return Response(body, media_type="application/json")
