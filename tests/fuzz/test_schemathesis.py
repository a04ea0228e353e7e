"""Schemathesis, written by others from nothing but our /openapi.json, against the running
API with every kind of credentials, every check (`--checks all`) and every phase (examples,
coverage, fuzzing, stateful): no answer may be a 5xx, every answer must match the document
(status codes, content types, headers, bodies, `Allow`), and the document must say what the
server enforces (`schemathesis.toml` and `hooks.py` say how a refusal is read).

`FUZZ_EXAMPLES` (default 5, what CI runs) sets the examples per operation; run it with 50
before a release (docs/operations.md)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest

from core.context import ServiceContext
from core.settings import ROOT_DIR
from models.users import Role
from tests.factories import create_user, login
from tests.processing.conftest import make_store, make_trader, new_currency

HERE = Path(__file__).parent
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "5")


async def _headers(api: httpx.AsyncClient, ctx: ServiceContext, role: Role) -> list[str]:
    user = create_user(ctx.engine, role)
    bearer = (await login(api, user.email))["Authorization"]
    currency = new_currency(ctx)
    await make_trader(api, ctx, currency)
    store = make_store(ctx, currency)
    return ["-H", f"Authorization: {bearer}", "-H", f"X-API-Key: {store.headers['X-API-Key']}"]


# An administrator's run may change platform settings and reference data; they are reset
# after each run.
@pytest.mark.usefixtures("no_platform_overrides", "reference_restored")
@pytest.mark.parametrize(
    "role", [Role.admin, Role.merchant, Role.trader, Role.connect_user, Role.teamlead]
)
async def test_every_operation_answers_as_documented(
    role: Role,
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    live_url: str,
    tmp_path: Path,
) -> None:
    """80-120 s a role on this 2-core machine, over the 60 s budget: every one of the
    ~290 operations is generated and checked (five examples, the coverage phase and the
    stateful links), and a role's findings are only meaningful over all of them."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{live_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        EXAMPLES,
        "--seed",
        "20261128",
        "--continue-on-failure",
        # One worker: Hypothesis' source inspection is not thread-safe on Python 3.11.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-shrink",
        "--exclude-path-regex",
        "^/(metrics|health|ready)$",
        *await _headers(api, ctx, role),
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env={
            **os.environ,
            "NO_COLOR": "1",
            "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
            "PYTHONPATH": str(ROOT_DIR),
        },
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    (tmp_path / "schemathesis.txt").write_text(text)
    assert process.returncode == 0, text[-20000:]
