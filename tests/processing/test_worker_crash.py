"""A worker process SIGKILLed mid-flow: another worker finishes the order, settling once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from api.main import create_app
from core.context import ServiceContext
from models.ledger import Hold, HoldStatus, Posting
from tests.factories import worker_env
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=self.env)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def crash_queue() -> str:
    return f"crash-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def subprocess_worker(ctx: ServiceContext, crash_queue: str) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(worker_env(ctx, crash_queue))
    worker.start()
    yield worker
    worker.kill()


@pytest.fixture
async def crash_api(ctx: ServiceContext, crash_queue: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API, starting workflows on the queue only the subprocess worker polls."""
    settings = ctx.settings.model_copy(update={"temporal_task_queue": crash_queue})
    other = ServiceContext.build(settings)
    app: FastAPI = create_app(settings, context=other)
    app.state.payin_callback_delays_s = [1]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    await other.close()


async def test_sigkill_mid_flow_settles_exactly_once(
    crash_api: httpx.AsyncClient, ctx: ServiceContext, subprocess_worker: WorkerProcess
) -> None:
    api = crash_api
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency)
    created = await api.post(
        "/api/gateway/payins", json=payin_body(currency), headers=store.headers
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    await api.post(f"/api/gateway/payins/{order_id}/paid", headers=store.headers)

    confirm = asyncio.create_task(
        api.post(f"/api/trader/orders/{order_id}/confirm", headers=trader.headers)
    )
    await asyncio.sleep(0.15)
    subprocess_worker.kill()
    subprocess_worker.start()
    response = await asyncio.wait_for(confirm, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"

    with Session(ctx.engine) as session:
        oid = uuid.UUID(order_id)
        postings = session.exec(select(Posting).where(Posting.order_id == oid)).all()
        assert len(postings) == 1
        assert (
            session.exec(select(Hold).where(Hold.order_id == oid)).one().status == HoldStatus.posted
        )
