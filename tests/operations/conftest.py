"""Drill fixtures: a worker in its own process (so it can be SIGKILLed) and an API that
starts workflows on the queue only that worker polls."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app
from core.context import ServiceContext
from core.settings import ROOT_DIR
from tests.factories import worker_env


class WorkerProcess:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT_DIR, env=self.env)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def drill_queue() -> str:
    return f"drill-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def drill_worker(ctx: ServiceContext, drill_queue: str) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(worker_env(ctx, drill_queue))
    worker.start()
    yield worker
    worker.kill()


@pytest.fixture
async def drill_api(ctx: ServiceContext, drill_queue: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = ctx.settings.model_copy(update={"temporal_task_queue": drill_queue})
    other = ServiceContext.build(settings)
    app: FastAPI = create_app(settings, context=other)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=120
        ) as client:
            yield client
    await other.close()
