"""What the benchmarks share: a scratch PostgreSQL database, the Temporal dev server, a worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from temporalio.client import Client

from contracts.search_attributes import dev_server_flags
from core.migrate import upgrade
from core.settings import Settings
from launcher.services import (
    ManagedProcess,
    free_port,
    start_process,
    temporal_args,
    wait_for_port,
)

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def scratch_database(prefix: str = "jivapay_bench", keep: bool = False) -> Iterator[str]:
    """A new database's URL; dropped afterwards unless `keep`."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(url: str) -> str:
    """The URL with the project's PostgreSQL driver, as the settings object resolves it."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def bench_settings(database_url: str, temporal_address: str, **overrides: object) -> Settings:
    run = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "temporal_address": temporal_address,
        "temporal_task_queue": f"bench-{run}",
        "jwt_secret": secrets.token_urlsafe(48),
        "fernet_key": Fernet.generate_key().decode(),
        "api_rate_limit": "1000000/minute",
        "data_dir": Path(tempfile.gettempdir()) / f"jivapay-bench-{run}",
    }
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    upgrade(settings.effective_database_url)
    return settings


@contextlib.asynccontextmanager
async def temporal() -> AsyncIterator[Client]:
    """A Temporal dev server of the benchmark's own (a child process it stops itself), and a
    client of it. Not `WorkflowEnvironment.start_local`: the SDK's handling of the server it
    starts ends after `shutdown()` returns, and an interpreter that exits meanwhile aborts
    ("Fatal Python error: PyGILState_Release")."""
    data = Path(tempfile.mkdtemp(prefix="jivapay-bench-temporal-"))
    host, port = "127.0.0.1", free_port()
    args = temporal_args(data / "temporal.db", host, port, free_port(), dev_server_flags())
    server = start_process("temporal", args, data / "temporal.log")
    try:
        wait_for_port(server, host, port)
        yield await _connect_when_healthy(server, f"{host}:{port}")
    finally:
        server.stop()


async def _connect_when_healthy(server: ManagedProcess, address: str) -> Client:
    """A client once the server answers: its port opens before its frontend is healthy
    ("Frontend is not healthy yet"), which a loaded machine made last seconds."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return await Client.connect(address)
        except RuntimeError as exc:
            if "not healthy" not in str(exc) or not server.alive() or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
