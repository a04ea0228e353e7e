"""GET /api/dashboard: the one call a Connect client needs on its home screen."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import CurrentConnectUser, SessionDep
from connect.dashboard import dashboard_body
from models.dashboard import DashboardPublic

router = APIRouter()


# Returning the Response skips FastAPI's validation; the model documents the body.
@router.get("/dashboard", response_model=DashboardPublic)
async def dashboard(session: SessionDep, user: CurrentConnectUser) -> Response:
    """Safe-to-Spend, health score, debt, DSTI, forecast, accounts and bank statuses."""
    # All of the request's database work in one trip to the thread pool.
    body = await run_in_threadpool(dashboard_body, session, user.id)
    return Response(body, media_type="application/json")
