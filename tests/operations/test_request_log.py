"""One log line per request (`jivapay.access`): method, route template, status, duration, who
asked (user or store) and the request id; never the raw path, a token or a key. Also in the
API process `make run` starts, which is the only access line there (uvicorn's is off)."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.context import ServiceContext
from core.logging import json_formatter
from launcher.services import free_port, start_process, wait_for_port
from models.users import Role
from tests.factories import PASSWORD, create_user, login, worker_env
from tests.operations.test_forwarded_headers import (
    compose_command,
    image_command,
    launcher_command,
)
from tests.processing.conftest import make_store, new_currency


def access_lines(caplog: pytest.LogCaptureFixture, request_id: str) -> list[dict[str, Any]]:
    """The request's access records as the JSON formatter writes them."""
    formatter = json_formatter("api")
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "jivapay.access" and getattr(record, "request_id", None) == request_id
    ]


async def test_a_store_request_logs_one_line_with_its_route_and_store(
    api: httpx.AsyncClient, ctx: ServiceContext, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store(ctx, new_currency(ctx))
    trace, order_id = f"trace-{uuid.uuid4().hex[:12]}", uuid.uuid4()
    caplog.set_level(logging.INFO, logger="jivapay.access")
    answer = await api.get(
        f"/api/gateway/payins/{order_id}", headers={**store.headers, "X-Request-ID": trace}
    )
    assert answer.status_code == 404
    [line] = access_lines(caplog, trace)
    assert (line["method"], line["route"], line["status"]) == (
        "GET",
        "/api/gateway/payins/{order_id}",
        404,
    )
    assert line["duration_ms"] > 0 and line["level"] == "INFO" and line["service"] == "api"
    assert (line["store_id"], line["user_id"]) == (str(store.store_id), None)
    text = json.dumps(line)
    assert str(order_id) not in text and store.headers["X-API-Key"] not in text


async def test_a_signed_in_request_names_the_user_and_no_secret(
    api: httpx.AsyncClient, ctx: ServiceContext, caplog: pytest.LogCaptureFixture
) -> None:
    user = create_user(ctx.engine, Role.merchant)
    caplog.set_level(logging.INFO, logger="jivapay.access")
    token = await login(api, user.email)
    trace = f"trace-{uuid.uuid4().hex[:12]}"
    answer = await api.get("/api/merchant/stores", headers={**token, "X-Request-ID": trace})
    assert answer.status_code == 200
    [line] = access_lines(caplog, trace)
    assert (line["route"], line["status"], line["user_id"]) == (
        "/api/merchant/stores",
        200,
        str(user.id),
    )
    # Nothing of the credentials in any access line of the test (the sign-in's included).
    bearer = token["Authorization"].split()[-1]
    everything = json.dumps([r.__dict__ for r in caplog.records], default=str)
    assert bearer not in everything and PASSWORD not in everything


@pytest.mark.parametrize("command", [launcher_command, image_command, compose_command])
def test_every_way_to_start_the_api_leaves_the_access_line_to_the_app(command: Any) -> None:
    args, _ = command("")
    assert "--no-access-log" in " ".join(args)


def test_the_api_make_run_starts_writes_the_line(ctx: ServiceContext, tmp_path: Path) -> None:
    args, _ = launcher_command("")
    port = free_port()
    args[args.index("--host") + 1], args[args.index("--port") + 1] = "127.0.0.1", str(port)
    # `make run` is development: readable console lines.
    env = {**worker_env(ctx, "request-log", log_level="INFO"), "LOG_FORMAT": "console"}
    proc = start_process("api", args, tmp_path / "api.log", env)
    try:
        wait_for_port(proc, "127.0.0.1", port, timeout=60)
        trace, order_id = f"trace-{uuid.uuid4().hex[:12]}", uuid.uuid4()
        answer = httpx.get(
            f"http://127.0.0.1:{port}/api/gateway/payins/{order_id}",
            headers={"X-Request-ID": trace},
            timeout=30,
        )
    finally:
        proc.stop()
    assert answer.status_code == 401
    log = (tmp_path / "api.log").read_text()
    ours = [line for line in log.splitlines() if f"req={trace}" in line]
    assert len(ours) == 1, log[-3000:]
    assert "jivapay.access" in ours[0]
    assert "GET /api/gateway/payins/{order_id} 401 " in ours[0]
    # The raw path (and so any id or token in it) is in no line: uvicorn's access log is off.
    assert str(order_id) not in log
