"""Error shape, request ids, health and readiness."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
import pytest
from fastapi import FastAPI
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.main import create_app
from core.context import ServiceContext
from core.heartbeats import heartbeating
from core.settings import Settings


async def test_request_id_generated_and_echoed(api: httpx.AsyncClient) -> None:
    generated = await api.get("/health")
    assert generated.status_code == 200
    assert len(generated.headers["X-Request-ID"]) == 32

    echoed = await api.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"

    unsafe = await api.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["X-Request-ID"] != "bad id\twith spaces"


async def test_unknown_route_has_error_shape_and_request_id(api: httpx.AsyncClient) -> None:
    response = await api.get("/nope", headers={"X-Request-ID": "req-404"})
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not Found", "details": None},
        "request_id": "req-404",
    }
    assert response.headers["X-Request-ID"] == "req-404"


async def test_malformed_json_is_validation_error(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_crash_is_500_with_shape_and_logged_with_request_id(
    ctx: ServiceContext, caplog: pytest.LogCaptureFixture
) -> None:
    app: FastAPI = create_app(ctx.settings, context=ctx)

    @app.get("/boom")
    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        with caplog.at_level(logging.ERROR):
            response = await client.get("/boom", headers={"X-Request-ID": "req-boom"})
            # A browser asking for a page gets one: what happened in words, the request id.
            browser = {"accept": "text/html", "X-Request-ID": "req-page"}
            shown = await client.get("/boom", headers=browser)
            api_answer = await client.get("/api/boom", headers=browser)
    assert shown.status_code == 500 and shown.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in shown.text and "req-page" in shown.text
    assert "kaboom" not in shown.text and "Traceback" not in shown.text
    assert api_answer.status_code == 500 and api_answer.json()["error"]["code"] == "internal_error"
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "kaboom" not in response.text
    assert response.headers["X-Request-ID"] == "req-boom"
    assert any(getattr(r, "request_id", None) == "req-boom" for r in caplog.records)


async def test_ready_reports_every_component(api: httpx.AsyncClient, worker: None) -> None:
    # The suite's worker may have just started: its first poll reaches the server shortly.
    for _ in range(50):
        response = await api.get("/ready")
        if response.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert response.status_code == 200, response.text
    components = response.json()["components"]
    assert set(components) == {"database", "temporal", "worker", "s3", "redis"}
    assert all(c["status"] == "up" for c in components.values())


async def test_ready_is_503_when_a_component_is_down(settings: Settings) -> None:
    broken = settings.model_copy(
        update={"s3_endpoint_url": "http://127.0.0.1:1", "redis_url": "redis://127.0.0.1:1/0"}
    )
    ctx = ServiceContext.build(broken)
    app = create_app(broken, context=ctx)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        response = await client.get("/ready")
    await ctx.close()
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["database"]["status"] == "up"
    assert components["temporal"]["status"] == "up"
    assert components["s3"]["status"] == "down"
    assert components["redis"]["status"] == "down"


async def test_ready_is_503_while_no_worker_of_the_task_queue_beats(
    settings: Settings, temporal_client: Client
) -> None:
    queue = f"nobody-{uuid.uuid4().hex[:8]}"
    lonely = settings.model_copy(update={"temporal_task_queue": queue})
    ctx = ServiceContext.build(lonely)
    app = create_app(lonely, context=ctx)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        idle = await client.get("/ready")
        async with (
            Worker(
                temporal_client,
                task_queue=queue,
                workflows=[Idle],
                workflow_runner=UnsandboxedWorkflowRunner(),
            ),
            heartbeating(ctx.engine, queue, lonely.worker_heartbeat_seconds),
        ):
            for _ in range(50):
                polled = await client.get("/ready")
                if polled.status_code == 200:
                    break
                await asyncio.sleep(0.2)
    await ctx.close()
    assert idle.status_code == 503
    assert idle.json()["components"]["worker"]["status"] == "down"
    assert polled.status_code == 200, polled.text
    assert polled.json()["components"]["worker"]["status"] == "up"


@workflow.defn
class Idle:
    @workflow.run
    async def run(self) -> None:
        return None
