"""Drill fixtures: a worker in its own process (so it can be SIGKILLed) and an API that
starts workflows on the queue only that worker polls."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app
from contracts.search_attributes import dev_server_flags
from core.context import ServiceContext
from core.settings import ROOT_DIR
from launcher.services import ManagedProcess, free_port, start_process, temporal_args, wait_for_port
from tests.factories import worker_env
from tests.processing.conftest import CallbackReceiver


class WorkerProcess:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT_DIR, env=self.env)

    def stop(self) -> None:
        """SIGTERM: the worker finishes what it runs and leaves cleanly."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    server = CallbackReceiver()
    yield server
    server.close()


@pytest.fixture
def drill_queue() -> str:
    return f"drill-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def drill_worker(ctx: ServiceContext, drill_queue: str) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(worker_env(ctx, drill_queue))
    worker.start()
    yield worker
    worker.kill()


@asynccontextmanager
async def drill_app(ctx: ServiceContext, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An API of its own (settings changed as given), started, with a client on it."""
    settings = ctx.settings.model_copy(update=changes)
    other = ServiceContext.build(settings)
    app: FastAPI = create_app(settings, context=other)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", timeout=120
            ) as client:
                yield client
    finally:
        await other.close()


@pytest.fixture
async def drill_api(ctx: ServiceContext, drill_queue: str) -> AsyncIterator[httpx.AsyncClient]:
    async with drill_app(ctx, temporal_task_queue=drill_queue) as client:
        yield client


class PrivateTemporal:
    """A Temporal dev server of the drill's own (its file survives a restart)."""

    def __init__(self, tmp_path: Path) -> None:
        self.host, self.port = "127.0.0.1", free_port()
        self.address = f"{self.host}:{self.port}"
        self.args = temporal_args(
            tmp_path / "temporal.db", self.host, self.port, free_port(), dev_server_flags()
        )
        self.log = tmp_path / "temporal.log"
        self.proc: ManagedProcess | None = None

    def start(self) -> None:
        self.proc = start_process("temporal", self.args, self.log)
        wait_for_port(self.proc, self.host, self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


@pytest.fixture
def private_temporal(tmp_path: Path) -> Iterator[PrivateTemporal]:
    server = PrivateTemporal(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_worker(
    ctx: ServiceContext, drill_queue: str, private_temporal: PrivateTemporal
) -> Iterator[WorkerProcess]:
    """A worker process on the drill's queue of the private server."""
    env = {**worker_env(ctx, drill_queue), "TEMPORAL_ADDRESS": private_temporal.address}
    worker = WorkerProcess(env)
    worker.start()
    yield worker
    worker.kill()
