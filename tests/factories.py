"""Building users and stores for tests through the real database and API."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connect.identities import assign_specific, release_identity
from core.context import ServiceContext
from core.security import hash_password
from models.merchants import Merchant
from models.users import Role, SandboxIdentity, User

PASSWORD = "correct-horse-battery"


@dataclass
class Actor:
    user_id: uuid.UUID
    email: str
    headers: dict[str, str]


def create_user(
    engine: Engine, role: Role, email: str | None = None, external_client_id: str | None = None
) -> User:
    email = email or f"{role.value}-{uuid.uuid4().hex[:10]}@example.com"
    with Session(engine, expire_on_commit=False) as session:
        user = User(email=email, password_hash=hash_password(PASSWORD), role=role)
        session.add(user)
        session.commit()
        if external_client_id:
            give_identity(engine, external_client_id, user.id)
        if role == Role.merchant:
            session.add(Merchant(owner_user_id=user.id, name=f"Shop {email}"))
            session.commit()
        return user


# Set by the suite's bank emulator fixture: identities handed out are fresh at its banks.
EMULATOR = {"url": ""}


def give_identity(engine: Engine, name: str, user_id: uuid.UUID) -> None:
    """Hand a sandbox identity to a test's user, freeing it first as an administrator would:
    its consents revoked at the banks and what an earlier test's user synced deleted."""
    if EMULATOR["url"]:
        for bank in ("vbank", "abank", "sbank"):
            httpx.post(
                f"{EMULATOR['url']}/{bank}/admin/consents/revoke",
                json={"client_id": name},
                headers={"X-Emulator-Admin": "emulator-admin"},
            ).raise_for_status()
    with Session(engine) as session:
        if session.get(SandboxIdentity, name) is None:
            session.add(SandboxIdentity(external_client_id=name, team=name.rsplit("-", 1)[0]))
            session.commit()
    release_identity(engine, name)
    assign_specific(engine, name, user_id)


async def login(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await api.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def actor(api: httpx.AsyncClient, engine: Engine, role: Role) -> Actor:
    user = create_user(engine, role)
    return Actor(user.id, user.email, await login(api, user.email))


def worker_env(ctx: ServiceContext, task_queue: str, log_level: str = "WARNING") -> dict[str, str]:
    """Environment for a `worker.py` subprocess on the suite's services."""
    s = ctx.settings
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": s.database_url,
        "REDIS_URL": s.redis_url or "",
        "TEMPORAL_ADDRESS": s.temporal_address,
        "TEMPORAL_TASK_QUEUE": task_queue,
        "S3_ENDPOINT_URL": s.s3_endpoint_url,
        "S3_BUCKET": s.s3_bucket,
        "JWT_SECRET": s.jwt_secret.get_secret_value(),
        "FERNET_KEY": s.fernet_key.get_secret_value(),
        "CALLBACK_ALLOW_PRIVATE": "true",
        "LOG_LEVEL": log_level,
        # No fixed metrics ports in the suite (runs may overlap on one machine).
        "WORKER_SDK_METRICS_PORT": "0",
        "WORKER_APP_METRICS_PORT": "0",
    }
