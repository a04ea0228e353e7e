"""Worker heartbeats: each worker process upserts its row every `worker_heartbeat_seconds`
while it polls; readiness counts the workers of its task queue seen within
`worker_stale_seconds`.

Temporal's own list of pollers cannot be that check: an idle worker's long poll lasts up to
a minute, so a dead worker and an idle one look the same for that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from core.db import dialect_insert
from models.base import utcnow
from models.workers import WorkerHeartbeat

log = logging.getLogger(__name__)
TABLE = WorkerHeartbeat.__table__  # type: ignore[attr-defined]
# Rows of workers gone this long are removed by the others (a killed worker leaves its row).
FORGET_AFTER = timedelta(hours=1)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def beat(engine: Engine, worker: str, task_queue: str) -> None:
    now = utcnow()
    insert = dialect_insert(engine.dialect.name, TABLE).values(
        worker_id=worker, task_queue=task_queue, beat_at=now, started_at=now
    )
    with engine.begin() as conn:
        conn.execute(
            insert.on_conflict_do_update(index_elements=["worker_id"], set_={"beat_at": now})
        )
        conn.execute(delete(TABLE).where(TABLE.c.beat_at < now - FORGET_AFTER))


def forget(engine: Engine, worker: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(TABLE).where(TABLE.c.worker_id == worker))


class NoLiveWorker(Exception):
    """No worker of the task queue beat lately: workflows would wait, not run."""


def live_workers(engine: Engine, task_queue: str, within_s: float) -> int:
    """Workers of the task queue whose last heartbeat is at most `within_s` old (none:
    NoLiveWorker)."""
    since = utcnow() - timedelta(seconds=within_s)
    with engine.connect() as conn:
        query = select(func.count()).where(
            TABLE.c.task_queue == task_queue, TABLE.c.beat_at >= since
        )
        count = int(conn.execute(query).scalar_one())
    if not count:
        raise NoLiveWorker(f"no worker of {task_queue} beat in the last {within_s:g} s")
    return count


@contextlib.asynccontextmanager
async def heartbeating(engine: Engine, task_queue: str, every_s: float) -> AsyncIterator[str]:
    """Beat while the body runs (the worker polls), then remove the row: a worker that stops
    cleanly is gone from readiness at once; a killed one after `worker_stale_seconds`.

    The writes run on a thread of their own, so a worker busy with activities (its pool full)
    still beats on time; a worker whose event loop is stuck does not."""
    me = worker_id()
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="heartbeat") as thread:

        async def run() -> None:
            while True:
                try:
                    await loop.run_in_executor(thread, beat, engine, me, task_queue)
                except Exception as exc:  # the database is away: readiness says so anyway
                    log.warning("worker heartbeat not written: %s", type(exc).__name__)
                await asyncio.sleep(every_s)

        task = asyncio.create_task(run())
        try:
            yield me
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(Exception):
                await loop.run_in_executor(thread, forget, engine, me)
