"""What the benchmarks share: a scratch PostgreSQL database, the Temporal dev server, a worker."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from temporalio.testing import WorkflowEnvironment

from contracts.search_attributes import ALL as SEARCH_ATTRIBUTES
from core.context import ServiceContext
from core.migrate import upgrade
from core.settings import Settings
from launcher.services import binary
from worker import build_worker

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    name = f"jivapay_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
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
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


@contextlib.asynccontextmanager
async def running_worker(env: WorkflowEnvironment, ctx: ServiceContext) -> AsyncIterator[None]:
    with ThreadPoolExecutor(max_workers=32) as executor:
        worker = build_worker(env.client, ctx, ctx.settings.temporal_task_queue, executor)
        async with worker:
            yield


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
