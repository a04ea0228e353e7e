"""Real services for the whole suite: PostgreSQL, Temporal dev server, SeaweedFS, Redis.

Each run gets its own PostgreSQL database, its own Temporal dev server and SeaweedFS on free
ports, and its own Redis key prefix, so runs never see each other's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import resource
import secrets
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlmodel import Session, delete
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from contracts.search_attributes import ALL as SEARCH_ATTRIBUTES
from core.context import ServiceContext
from core.heartbeats import heartbeating
from core.migrate import upgrade
from core.settings import Settings
from launcher.services import (
    SeaweedPorts,
    binary,
    free_port,
    seaweed_args,
    start_process,
    wait_for_port,
)
from models.platform_settings import PlatformSetting
from processing.accounts.collateral import settings_changed
from tests import (
    factories,
    process_patches,  # noqa: F401 - a patient deadlock detector, one AST parse at a time
)
from worker import build_worker

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_DATABASE = os.environ.get("TEST_DATABASE", "postgresql")


def _pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{database}"


# Fixtures that give a test a database of the suite's kind (TEST_DATABASE).
DATABASE_FIXTURES = {"database_url", "seed_settings"}


# The longest files of a pass (measured on a clean-clone `make test`), run first: xdist hands
# out whole files in collection order, so a long file left for last keeps one worker busy
# while the other has nothing to do.
LONGEST_FIRST = (
    "tests/fuzz/test_schemathesis.py",
    "tests/operations/test_action_drills.py",
    "tests/operations/test_worker_drills.py",
    "tests/operations/test_orphans.py",
    "tests/operations/test_degrade.py",
    "tests/operations/test_bench_scale.py",
    "tests/operations/test_rolling_restart.py",
    "tests/web/test_admin_pages.py",
    "tests/processing/test_statement_faults.py",
    "tests/connect/test_real_bank_rules.py",
    "tests/web/test_pages.py",
    "tests/operations/test_rollout.py",
)


def _rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest files first (LONGEST_FIRST; the rest keep their order). The SQLite pass
    runs only what touches a database of the suite's kind (a fixture of DATABASE_FIXTURES);
    the rest (layout rules, the emulator, pure computation, workflows with stand-in
    activities, processes with databases of their own) runs once, in the PostgreSQL pass."""
    items.sort(key=_rank)
    if TEST_DATABASE != "sqlite":
        return
    keep: list[pytest.Item] = []
    once: list[pytest.Item] = []
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        (keep if fixtures & DATABASE_FIXTURES else once).append(item)
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = keep


def _cpu_seconds() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


# CPU of the pass's xdist workers, as each reported it when it ended.
WORKERS_CPU: list[tuple[float, float]] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its CPU to the controller, which prints the pass's total."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["cpu_seconds"] = _cpu_seconds()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    cpu = getattr(node, "workeroutput", {}).get("cpu_seconds")
    if cpu is not None:
        WORKERS_CPU.append(tuple(cpu))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """CPU the pass spent (its own and its ended child processes': Temporal, SeaweedFS,
    uvicorn, the fuzzer; with xdist, its workers' and theirs), next to the wall time pytest
    prints: how far the suite is from being bound by this machine's cores."""
    own, children = _cpu_seconds()
    if WORKERS_CPU:
        own = sum(cpu[0] for cpu in WORKERS_CPU)
        children = sum(cpu[1] for cpu in WORKERS_CPU)
    line = (
        f"cpu ({TEST_DATABASE}): {own:.0f} s in pytest, {children:.0f} s in ended child processes"
    )
    if WORKERS_CPU:
        line += f" (over {len(WORKERS_CPU)} workers)"
    terminalreporter.write_line(line)


def create_database(prefix: str = "jivapay_test") -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_database(kind: str, folder: Path, prefix: str) -> Iterator[str]:
    """An empty database of its own, PostgreSQL or SQLite (`kind`), for a migration test."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{prefix}.sqlite3'}"
        return
    name = create_database(prefix)
    try:
        yield _pg_url(name).replace("postgresql://", "postgresql+psycopg://")
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """PostgreSQL by default; `TEST_DATABASE=sqlite` runs the suite on the default a new
    user gets (an SQLite file), which `make test` does in a second pass."""
    if TEST_DATABASE == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'jivapay.sqlite3'}"
        return
    name = create_database()
    yield _pg_url(name)
    drop_database(name)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Eight ports chosen free a moment before SeaweedFS binds them: another process of the
    # machine may take one first (seen with parallel workers), so a start that dies at once
    # is tried again on other ports.
    for attempt in range(3):
        ports = SeaweedPorts.free()
        data_dir = tmp_path_factory.mktemp("seaweedfs")
        args = seaweed_args(data_dir, "127.0.0.1", ports)
        proc = start_process("seaweedfs", args, data_dir / "log")
        try:
            wait_for_port(proc, "127.0.0.1", ports.s3)
            break
        except RuntimeError:
            proc.stop()
            if attempt == 2:
                raise
    try:
        yield f"http://127.0.0.1:{ports.s3}"
    finally:
        proc.stop()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        port=free_port(),
        dev_server_existing_path=binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@contextlib.contextmanager
def emulator_server(log_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`python -m bank_emulator` on a free port; the bank client talks to it over HTTP."""
    port = free_port()
    args = [sys.executable, "-m", "bank_emulator", "--host", "127.0.0.1", "--port", str(port)]
    proc = start_process("bank-emulator", [*args, "--log-level", "warning"], log_dir / "log", env)
    try:
        wait_for_port(proc, "127.0.0.1", port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def bank_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulator_server(tmp_path_factory.mktemp("bank-emulator")) as url:
        factories.EMULATOR["url"] = url
        yield url


@pytest.fixture(scope="session")
def settings(
    database_url: str, s3_endpoint: str, temporal_env: WorkflowEnvironment, bank_emulator: str
) -> Settings:
    run_id = uuid.uuid4().hex[:8]
    return Settings(
        environment="test",
        # Argon2 at its cheapest: a user costs 0.17 CPU-s to create and to sign in with the
        # production parameters (tests/foundation checks those are the default).
        argon2_profile="cheapest",
        database_url=database_url,
        redis_url=TEST_REDIS_URL,
        redis_key_prefix=f"jivapay-test-{run_id}:",
        temporal_address=temporal_env.client.service_client.config.target_host,
        temporal_task_queue=f"jivapay-test-{run_id}",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"jivapay-test-{run_id}",
        jwt_secret=secrets.token_urlsafe(48),
        fernet_key=Fernet.generate_key().decode(),
        api_rate_limit="100000/minute",
        ip_rate_limit="100000/minute",
        user_rate_limit="100000/minute",
        # Callbacks retried within seconds (the default ladder is checked on its own).
        callback_retry_delays_s=[1, 1, 1, 1],
        callback_allow_private=True,
        # Deposits and withdrawals the suite makes (up to 50 000) need one approver; the money
        # tests go above this to see the second.
        funds_second_approval_above=100_000,
        # The statement bridge scans every second; a hand confirmation waits 4 s for its credit.
        statement_watch_interval_seconds=1,
        unverified_confirmation_seconds=4,
        data_dir=Path(tempfile.gettempdir()) / f"jivapay-test-{run_id}",
        bank_base_urls={bank: f"{bank_emulator}/{bank}" for bank in ("vbank", "abank", "sbank")},
        rates_provider_url=f"{bank_emulator}/rates",
    )


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> Settings:
    upgrade(settings.effective_database_url)
    return settings


@pytest.fixture(scope="session")
async def ctx(migrated: Settings) -> AsyncIterator[ServiceContext]:
    context = ServiceContext.build(migrated)
    context.storage.ensure_bucket()
    factories.SECRETS_AT_REST["box"] = context.secrets
    yield context
    await context.close()


@pytest.fixture(scope="session")
async def app(ctx: ServiceContext) -> AsyncIterator[FastAPI]:
    application = create_app(ctx.settings, context=ctx)
    async with application.router.lifespan_context(application):
        yield application


MakeApi = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_api(ctx: ServiceContext) -> AsyncIterator[MakeApi]:
    """Another API app on the suite's services with some settings changed (limits, the
    callback address policy), its counters under a fresh Redis prefix; `live=True` serves it
    on uvicorn."""
    clients: list[httpx.AsyncClient] = []
    stack = contextlib.AsyncExitStack()

    async def build(*, live: bool = False, **changes: Any) -> httpx.AsyncClient:
        prefix = f"{ctx.settings.redis_key_prefix}{uuid.uuid4().hex[:6]}:"
        settings = ctx.settings.model_copy(update={"redis_key_prefix": prefix, **changes})
        # The same connections (database, Temporal, S3), seen through the changed settings.
        application = create_app(settings, context=dataclasses.replace(ctx, settings=settings))
        await stack.enter_async_context(application.router.lifespan_context(application))
        if live:  # over real HTTP, on uvicorn
            url = await stack.enter_async_context(serve(application, settings))
            client = httpx.AsyncClient(base_url=url)
        else:
            transport = httpx.ASGITransport(app=application)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        clients.append(client)
        return client

    async with stack:
        yield build
        for client in clients:
            await client.aclose()


@contextlib.asynccontextmanager
async def serve(app: FastAPI, settings: Settings) -> AsyncIterator[str]:
    """The app over real HTTP on uvicorn, trusting forwarding headers exactly as the launcher,
    the image and compose tell uvicorn to (`FORWARDED_ALLOW_IPS`)."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    server = factories.InProcessServer(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="session")
async def live_url(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[str]:
    """The suite's app served over real HTTP (for the browser and the API fuzzer)."""
    async with serve(app, ctx.settings) as url:
        yield url


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture(scope="session")
async def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
async def worker(ctx: ServiceContext, temporal_client: Client) -> AsyncIterator[None]:
    """The suite's worker, on the task queue the API starts workflows on."""
    with ThreadPoolExecutor(max_workers=32) as executor:
        queue = ctx.settings.temporal_task_queue
        running = build_worker(temporal_client, ctx, queue, executor)
        async with running, heartbeating(ctx.engine, queue, ctx.settings.worker_heartbeat_seconds):
            yield


@pytest.fixture
def no_platform_overrides(ctx: ServiceContext, app: FastAPI) -> Iterator[None]:
    """Platform settings a test overrides go with it (the suite's app forgets its cache)."""
    yield
    with Session(ctx.engine) as session:
        session.exec(delete(PlatformSetting))
        session.commit()
        # Deposits frozen by a default the test set go with it too.
        settings_changed(session)
    app.state.platform_settings.invalidate()
