"""Readiness sees a dead worker within WORKER_STALE_SECONDS (not the minute a long poll lasts),
one that stopped cleanly at once, and a busy worker as alive: its heartbeat is written on a
thread of its own, not on the pool its activities fill."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import Session, select

from core.context import ServiceContext
from core.heartbeats import heartbeating
from models.workers import WorkerHeartbeat
from tests.factories import worker_env
from tests.operations.conftest import WorkerProcess, drill_app

BEAT_S, STALE_S = 1.0, 4.0


async def worker_status(api: httpx.AsyncClient) -> str:
    answer = await api.get("/ready")
    return str(answer.json()["components"]["worker"]["status"])


async def wait_worker(api: httpx.AsyncClient, status: str, limit_s: float) -> float:
    """Seconds until readiness shows the worker `status` (AssertionError past `limit_s`)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while await worker_status(api) != status:
        if loop.time() - started > limit_s:
            raise AssertionError(f"the worker was not {status} within {limit_s} s")
        await asyncio.sleep(0.2)
    return loop.time() - started


async def test_a_killed_worker_is_not_ready_within_the_stale_window(
    ctx: ServiceContext, drill_queue: str
) -> None:
    env = worker_env(ctx, drill_queue) | {
        "WORKER_HEARTBEAT_SECONDS": str(BEAT_S),
        "WORKER_STALE_SECONDS": str(STALE_S),
    }
    worker = WorkerProcess(env)
    worker.start()
    try:
        async with drill_app(
            ctx, temporal_task_queue=drill_queue, worker_stale_seconds=STALE_S
        ) as api:
            await wait_worker(api, "up", 60)
            worker.kill()
            # Its last beat may be just written: down once that beat is STALE_S old.
            await wait_worker(api, "down", STALE_S + 2 * BEAT_S + 2)
            ready = await api.get("/ready")
            assert ready.status_code == 503, ready.text
    finally:
        worker.kill()


async def test_a_worker_that_stops_cleanly_leaves_readiness_at_once(
    ctx: ServiceContext, drill_queue: str
) -> None:
    worker = WorkerProcess(worker_env(ctx, drill_queue))
    worker.start()
    try:
        # The default window (15 s): a worker that says goodbye is not waited for.
        async with drill_app(ctx, temporal_task_queue=drill_queue) as api:
            await wait_worker(api, "up", 60)
            worker.stop()
            assert await worker_status(api) == "down"
    finally:
        worker.kill()


async def test_a_busy_worker_keeps_beating(ctx: ServiceContext, drill_queue: str) -> None:
    release = threading.Event()
    loop = asyncio.get_running_loop()

    def beats() -> set[object]:
        with Session(ctx.engine) as session:
            rows = session.exec(
                select(WorkerHeartbeat.beat_at).where(WorkerHeartbeat.task_queue == drill_queue)
            ).all()
        return set(rows)

    # More blocked jobs than the loop's default pool has threads (the worker's activities
    # use that pool): a worker at capacity.
    blocked = [loop.run_in_executor(None, release.wait, 60) for _ in range(40)]
    seen: set[object] = set()
    with ThreadPoolExecutor(max_workers=1) as reader:
        try:
            async with heartbeating(ctx.engine, drill_queue, 0.2):
                deadline = loop.time() + 30
                while len(seen) < 3:
                    assert loop.time() < deadline, f"beats seen: {seen}"
                    seen |= await loop.run_in_executor(reader, beats)
                    await asyncio.sleep(0.1)
        finally:
            release.set()
            await asyncio.gather(*blocked)
        assert await loop.run_in_executor(reader, beats) == set()  # gone when it stops
