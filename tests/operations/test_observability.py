"""Logs, traces and metrics as ops read them: JSON lines with one schema, a pay-in's request
id in the API's, the workflow's and the activities' lines, Prometheus families on `/metrics`
and on the worker's endpoints, Sentry events scrubbed of secrets."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import subprocess
import sys
import time
import types
import uuid
from collections.abc import Generator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentry_sdk
from temporalio import converter

from api.main import create_app
from contracts.tracing import REQUEST_ID_HEADER, activity_context_var, request_id_var
from core.context import ServiceContext
from core.logging import configure_logging, json_formatter
from core.observability import before_send
from core.settings import ROOT_DIR
from core.tracing import _taken_from
from launcher.services import free_port
from tests.factories import worker_env
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.processing.payout_kit import created


def test_json_lines_share_one_schema_and_carry_the_activity_context() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter("worker"))
    logger = logging.getLogger("jivapay.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    configure_logging("INFO", service="worker", style="json")
    request = request_id_var.set("req-42")
    where = activity_context_var.set(
        {"workflow_id": "payin-1", "run_id": "r-1", "activity": "match_requisite", "attempt": 2}
    )
    try:
        logger.info("token=abc123 sent to %s", "https://bank/auth?client_secret=shh")
    finally:
        activity_context_var.reset(where)
        request_id_var.reset(request)
    line = json.loads(stream.getvalue())
    assert line["service"] == "worker" and line["level"] == "INFO"
    assert line["logger"] == "jivapay.test.json" and line["timestamp"]
    assert (line["request_id"], line["workflow_id"], line["activity"], line["attempt"]) == (
        "req-42",
        "payin-1",
        "match_requisite",
        2,
    )
    assert "abc123" not in line["message"] and "shh" not in line["message"]


async def test_a_payin_request_id_reaches_the_workflow_and_its_activities(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, caplog: pytest.LogCaptureFixture
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    trace = f"trace-{uuid.uuid4().hex[:12]}"
    caplog.set_level(logging.INFO)
    headers = {**store.headers, "X-Request-ID": trace}
    order_id = (await created(api, "/api/gateway/payins", payin_body(currency), headers))["id"]
    ours = [r for r in caplog.records if getattr(r, "request_id", None) == trace]
    activity_lines = [r for r in ours if getattr(r, "activity", None) == "match_requisite"]
    assert activity_lines, [r.getMessage() for r in ours]
    assert {getattr(r, "workflow_id", None) for r in activity_lines} == {f"payin-{order_id}"}
    assert any(r.name == "temporalio.workflow" and "matched" in r.getMessage() for r in ours)


async def test_metrics_show_http_routes_and_database_state(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    await api.get(f"/api/gateway/payins/{uuid.uuid4()}")
    body = (await api.get("/metrics")).text
    assert 'route="/api/gateway/payins/{order_id}"' in body
    assert "jivapay_http_request_duration_seconds_bucket" in body
    assert "jivapay_orders{" in body or "# TYPE jivapay_orders gauge" in body
    assert "# TYPE jivapay_consents gauge" in body


async def test_a_new_process_serves_without_building_the_openapi(ctx: ServiceContext) -> None:
    """Route labels come from the routes, built in the lifespan: no request of a fresh API
    process waits while the OpenAPI is generated (it held the event loop for seconds)."""
    application = create_app(ctx.settings, context=ctx)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            await api.get(f"/api/gateway/payins/{uuid.uuid4()}")
            await api.get("/static/no-such-file.css")
            await api.get("/login")
            body = (await api.get("/metrics")).text
        assert application.openapi_schema is None
    assert 'route="/api/gateway/payins/{order_id}"' in body
    assert 'route="/static/{path}"' in body
    assert 'route="/login"' in body


def _scrape(port: int, limit_s: float = 60) -> str:
    deadline = time.monotonic() + limit_s
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_the_worker_serves_sdk_and_business_metrics(ctx: ServiceContext, tmp_path: Path) -> None:
    sdk_port, app_port = free_port(), free_port()
    env = worker_env(ctx, f"metrics-{uuid.uuid4().hex[:8]}")
    env.update(WORKER_SDK_METRICS_PORT=str(sdk_port), WORKER_APP_METRICS_PORT=str(app_port))
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT_DIR, env=env, stdout=out, stderr=out
        )
    try:
        sdk = _scrape(sdk_port)
        app = _scrape(app_port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "temporal_" in sdk, sdk[:500]
    assert "jivapay_match_failures_total" in app and "jivapay_sync_duration_seconds" in app


def test_sentry_events_leave_without_secrets_or_card_numbers() -> None:
    sent: list[dict[str, Any]] = []
    # Made at run time: the event also carries this file's source lines around the raise.
    card = "2200 " + " ".join(f"{uuid.uuid4().int % 10_000:04d}" for _ in range(3))
    token, api_key = "eyJ" + uuid.uuid4().hex, "jp_live_" + uuid.uuid4().hex
    secret = "whsec_" + uuid.uuid4().hex

    class Capture(sentry_sdk.transport.Transport):
        def capture_envelope(self, envelope: Any) -> None:
            for item in envelope.items:
                if item.payload.json:
                    sent.append(item.payload.json)

    sentry_sdk.init(
        dsn="https://public@sentry.invalid/1", transport=Capture, before_send=before_send
    )
    try:
        try:
            raise RuntimeError(f"card {card} rejected; Authorization: Bearer {token}")
        except RuntimeError as exc:
            with sentry_sdk.new_scope() as scope:
                scope.set_context("request", {"headers": {"X-API-Key": api_key}})
                scope.set_extra("signing_secret", secret)
                scope.capture_exception(exc)
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
    text = json.dumps(sent)
    assert sent, "no event was sent"
    assert card not in text and "****" + card[-4:] in text
    assert token not in text and api_key not in text and secret not in text


@types.coroutine
def _suspend() -> Generator[None, None, None]:
    yield


def test_a_workflow_closed_from_another_context_restores_nothing_and_raises_nothing() -> None:
    # What the worker does to a cached workflow on eviction or shutdown: the coroutine that
    # took the request id from its headers is closed from a context of its own.
    headers = {REQUEST_ID_HEADER: converter.default().payload_converter.to_payload("req-evict")}

    async def workflow_body() -> None:
        with _taken_from(headers):
            assert request_id_var.get() == "req-evict"
            await _suspend()

    running = workflow_body()
    contextvars.copy_context().run(running.send, None)  # runs up to the sleep
    contextvars.copy_context().run(running.close)  # GeneratorExit; must not raise
    assert request_id_var.get() == "-"
