"""A throwaway platform for the benchmark: its own PostgreSQL database, Temporal dev server
and SeaweedFS; the API runs in this process (through ASGITransport), the worker in its own
process, as in production (see bench/worker_process.py)."""

from __future__ import annotations

import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NamedTuple

import httpx
from cryptography.fernet import Fernet
from sqlmodel import Session
from temporalio.client import Client

from api.main import create_app
from bench.common import scratch_database, temporal
from bench.receiver import callback_receiver
from bench.worker_process import platform_worker, worker_process
from core.context import ServiceContext
from core.migrate import upgrade
from core.security import create_access_token, generate_api_key, hash_api_key, hash_password
from core.settings import Settings
from launcher.services import SeaweedPorts, seaweed_args, start_process, wait_for_port
from models.ledger import AccountKind
from models.merchants import Merchant, Store
from models.traders import Requisite, RequisiteStatus, Trader, number_fingerprint
from models.users import Role, User
from processing.callbacks.signing import new_signing_secret
from processing.ledger.postings import deposit


class Stack(NamedTuple):
    api: httpx.AsyncClient
    store_key: str
    traders: list[dict[str, str]]
    client: Client
    database_url: str  # what the benchmark checks afterwards (the ledger)


def _user(session: Session, role: Role) -> User:
    user = User(
        email=f"{role.value}-{uuid.uuid4().hex[:8]}@bench.local",
        role=role,
        password_hash=hash_password(secrets.token_urlsafe(16)),
    )
    session.add(user)
    session.flush()
    return user


def seed(ctx: ServiceContext, callback_url: str) -> tuple[str, list[str]]:
    """A RUB store (funded for pay-outs, no review window, callbacks to `callback_url`) and
    two funded, online traders with roomy limits who take pay-outs too."""
    key, fernet = generate_api_key(), ctx.settings.fingerprint_secret
    with Session(ctx.engine) as session:
        owner = _user(session, Role.merchant)
        merchant = Merchant(owner_user_id=owner.id, name="Bench shop")
        session.add(merchant)
        session.flush()
        store = Store(
            name="Bench",
            merchant_id=merchant.id,
            api_key_prefix=key[:12],
            api_key_hash=hash_api_key(key),
            signing_secret_encrypted=ctx.secrets.encrypt(new_signing_secret()),
            payout_enabled=True,
            payout_review_seconds=0,
            callback_url=callback_url,
        )
        session.add(store)
        session.flush()
        deposit(session, store.id, "RUB", 10**12, "bench", AccountKind.store)
        tokens = []
        for n in range(2):
            user = _user(session, Role.trader)
            trader = Trader(
                user_id=user.id, is_online=True, payout_enabled=True, max_open_payouts=100
            )
            session.add(trader)
            session.flush()
            number = f"22000000000000{n:02d}"
            session.add(
                Requisite(
                    trader_id=trader.id,
                    number_encrypted=ctx.secrets.encrypt(number),
                    number_last4=number[-4:],
                    number_hash=number_fingerprint(fernet, number),
                    holder_name="Bench Trader",
                    bank_code="sber",
                    payment_method="card",
                    currency="RUB",
                    status=RequisiteStatus.approved,
                    max_open_orders=500,
                )
            )
            deposit(session, trader.id, "RUB", 10**12, f"bench:{trader.id}")
            tokens.append(create_access_token(ctx.settings, user.id, Role.trader.value))
        session.commit()
    return key, tokens


@asynccontextmanager
async def local_stack() -> AsyncIterator[Stack]:
    with scratch_database() as database_url, callback_receiver() as callback_url:
        async with _stack(database_url, callback_url) as stack:
            yield stack


@asynccontextmanager
async def _stack(database_url: str, callback_url: str) -> AsyncIterator[Stack]:
    async with services() as (data, s3_port, client):
        async with _platform(data, s3_port, database_url, callback_url, client) as stack:
            yield stack


@asynccontextmanager
async def services() -> AsyncIterator[tuple[Path, int, Client]]:
    """SeaweedFS and a Temporal dev server of the benchmark's own: a data directory, the S3
    port and a Temporal client."""
    data = Path(tempfile.mkdtemp(prefix="jivapay-bench-"))
    ports = SeaweedPorts.free()
    s3 = start_process("seaweedfs", seaweed_args(data, "127.0.0.1", ports), data / "seaweed.log")
    try:
        async with temporal() as client:
            wait_for_port(s3, "127.0.0.1", ports.s3)
            yield data, ports.s3, client
    finally:
        s3.stop()


def stack_settings(
    data: Path,
    s3_port: int,
    database_url: str,
    client: Client,
    task_queue: str = "bench",
) -> Settings:
    """The platform's settings for a benchmark: fresh secrets, no limit in the way."""
    return Settings(
        environment="test",
        database_url=database_url,
        temporal_address=client.service_client.config.target_host,
        temporal_task_queue=task_queue,
        s3_endpoint_url=f"http://127.0.0.1:{s3_port}",
        jwt_secret=secrets.token_urlsafe(48),
        fernet_key=Fernet.generate_key().decode(),
        # One client address drives every request: no limit of the platform's may throttle
        # the measurement; metrics ports free, so a `make run` beside it does not collide.
        api_rate_limit="10000000/minute",
        ip_rate_limit="10000000/minute",
        user_rate_limit="10000000/minute",
        worker_sdk_metrics_port=0,
        worker_app_metrics_port=0,
        data_dir=data,
        db_pool_size=20,
        callback_allow_private=True,  # the receiver listens on 127.0.0.1
    )


@asynccontextmanager
async def _platform(
    data: Path, s3_port: int, database_url: str, callback_url: str, client: Client
) -> AsyncIterator[Stack]:
    settings = stack_settings(data, s3_port, database_url, client)
    upgrade(settings.effective_database_url)
    ctx = ServiceContext.build(settings)
    ctx.storage.ensure_bucket()
    key, tokens = seed(ctx, callback_url)
    app = create_app(settings, context=ctx)
    traders = [{"Authorization": f"Bearer {t}"} for t in tokens]
    async with (
        app.router.lifespan_context(app),
        worker_process(platform_worker, settings),
    ):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=60
        ) as api:
            yield Stack(api, key, traders, client, settings.effective_database_url)
    await ctx.close()
