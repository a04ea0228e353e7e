"""Liveness and readiness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.responses import Response

from api.deps import ContextDep
from api.ops_metrics import ReadinessCollector
from core.context import ServiceContext
from core.heartbeats import live_workers
from core.metrics import render

router = APIRouter(tags=["health"])


DRAINING = {"status": "draining"}


@router.get("/health", response_model=dict[str, str])
async def health(request: Request) -> dict[str, str] | JSONResponse:
    """Process is alive and takes traffic; 503 `draining` once it is shutting down."""
    if request.app.state.drain.draining:
        return JSONResponse(DRAINING, status_code=503)
    return {"status": "ok"}


async def _probe(check: Callable[[], Awaitable[object]]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=5)
    except Exception as exc:
        # The exception type names the failure without leaking connection strings.
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "up", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


async def readiness(ctx: ServiceContext) -> dict[str, dict[str, object]]:
    """Each dependency checked one by one, side by side. A worker is up while its heartbeat
    is at most WORKER_STALE_SECONDS old."""

    def db_check() -> None:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    settings = ctx.settings
    workers = partial(
        live_workers, ctx.engine, settings.temporal_task_queue, settings.worker_stale_seconds
    )
    checks: dict[str, Callable[[], Awaitable[object]]] = {
        "database": lambda: asyncio.to_thread(db_check),
        "temporal": ctx.temporal.check,
        "worker": lambda: asyncio.to_thread(workers),
        "s3": ctx.storage.acheck,
    }
    if ctx.settings.redis_url:
        checks["redis"] = ctx.cache.ping
    names = list(checks)
    results = await asyncio.gather(*(_probe(checks[name]) for name in names))
    return dict(zip(names, results, strict=True))


@router.get("/ready")
async def ready(request: Request, ctx: ContextDep) -> JSONResponse:
    """Each dependency checked one by one; 503 when any is down. A worker is up while its
    heartbeat is at most WORKER_STALE_SECONDS old. 503 `draining` once shutting down."""
    if request.app.state.drain.draining:
        return JSONResponse(DRAINING, status_code=503)
    components = await readiness(ctx)
    all_up = all(result["status"] == "up" for result in components.values())
    body = {"status": "ready" if all_up else "not_ready", "components": components}
    return JSONResponse(body, status_code=200 if all_up else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, ctx: ContextDep) -> Response:
    """Prometheus metrics: HTTP and business counters of every process, database state,
    readiness as /ready answers it now."""
    state = request.app.state
    ready_now = ReadinessCollector(await readiness(ctx))
    collectors = (state.state_collector, state.overdue_collector, ready_now)
    body = await asyncio.to_thread(render, *collectors)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
