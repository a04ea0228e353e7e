"""Benchmark workers in their own processes: the platform's (worker.py) and the bare baseline's.

Both sides of the comparison get the same layout, the one production has: the clients (the
benchmark, the API) in one process, the Temporal worker in another. With everything in one
process the worker's workflow tasks queued behind API requests on one event loop and one GIL.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from multiprocessing.synchronize import Event
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare_payin import (
    BareCallbackWorkflow,
    BarePayinWorkflow,
    FloorPayinWorkflow,
    bare_step,
)
from bench.bare_payout import BarePayoutWorkflow
from bench.bare_withdrawal import BareWithdrawalWorkflow
from core.settings import Settings

# A fresh interpreter: no event loop, threads or connections inherited from the benchmark.
SPAWN = multiprocessing.get_context("spawn")
READY_TIMEOUT_S = 60


def _stop_on_sigterm() -> asyncio.Event:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    return stop


def platform_worker(settings: Settings, ready: Event) -> None:
    """The platform's worker exactly as `python worker.py` runs it."""
    from worker import run_worker

    async def serve() -> None:
        await run_worker(settings, _stop_on_sigterm(), on_ready=ready.set)

    asyncio.run(serve())


def bare_worker(temporal_address: str, task_queue: str, ready: Event) -> None:
    """A worker for the bare baseline workflows only."""

    from worker import WORKFLOW_RUNNER

    async def serve() -> None:
        stop = _stop_on_sigterm()
        client = await Client.connect(temporal_address)
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[
                BarePayinWorkflow,
                FloorPayinWorkflow,
                BarePayoutWorkflow,
                BareWithdrawalWorkflow,
                BareCallbackWorkflow,
            ],
            activities=[bare_step],
            # The same sandbox settings as the platform's worker.
            workflow_runner=WORKFLOW_RUNNER,
        )
        async with worker:
            ready.set()
            await stop.wait()

    asyncio.run(serve())


@asynccontextmanager
async def worker_process(target: Callable[..., None], *args: Any) -> AsyncIterator[None]:
    """Run `target(*args, ready)` in a child process; yields once its worker is polling."""
    ready = SPAWN.Event()
    process = SPAWN.Process(target=target, args=(*args, ready), daemon=True)
    process.start()
    try:
        if not await asyncio.to_thread(ready.wait, READY_TIMEOUT_S):
            raise RuntimeError(f"{target.__name__} did not start (exit code {process.exitcode})")
        yield
    finally:
        process.terminate()
        await asyncio.to_thread(process.join, 20)
        if process.is_alive():
            process.kill()
