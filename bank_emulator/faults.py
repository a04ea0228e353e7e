"""Fault injection and request counting for one bank's public endpoints.

Counters ("fail the next N requests") come before probabilities so tests can script exact
failure sequences; probabilities draw from a seeded generator so a run is reproducible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from bank_emulator.state import BankState

# The emulator's own endpoints are never faulted, so tests can always reconfigure it.
UNFAULTED_PREFIXES = ("/admin", "/docs", "/openapi.json", "/redoc")


def local_path(request: Request) -> str:
    """The path inside this bank's mount (`/accounts`, not `/vbank/accounts`)."""
    path: str = request.scope["path"]
    return path.removeprefix(request.scope.get("root_path", "")) or "/"


def next_fault(state: BankState) -> int | None:
    """The status code to fail this request with, or None to serve it."""
    with state.lock:
        faults = state.faults
        if faults.fail_next_429 > 0:
            faults.fail_next_429 -= 1
            return 429
        if faults.fail_next_5xx > 0:
            faults.fail_next_5xx -= 1
            return faults.status_5xx
        if faults.rate_429 == 0 and faults.rate_5xx == 0:
            return None
        draw = state.fault_rng.random()
    if draw < faults.rate_429:
        return 429
    if draw < faults.rate_429 + faults.rate_5xx:
        return faults.status_5xx
    return None


def fault_response(state: BankState, status: int) -> Response:
    if status == 429:
        retry_after = state.faults.retry_after_s
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return JSONResponse({"detail": "Too Many Requests"}, status_code=429, headers=headers)
    return JSONResponse({"detail": "Service temporarily unavailable"}, status_code=status)


def install_fault_middleware(app: FastAPI, state: BankState) -> None:
    @app.middleware("http")
    async def inject_faults(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = local_path(request)
        if path.startswith(UNFAULTED_PREFIXES):
            return await call_next(request)
        with state.lock:
            state.stats["requests"] += 1
            state.stats[f"{request.method} {path}"] += 1
        if state.faults.latency_ms:
            await asyncio.sleep(state.faults.latency_ms / 1000)
        status = next_fault(state)
        if status is not None:
            with state.lock:
                state.stats[f"faults_{status}"] += 1
            return fault_response(state, status)
        return await call_next(request)
