"""Building users and stores for tests through the real database and API."""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pyotp
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connect.identities import assign_specific, release_identity
from core.context import ServiceContext
from core.permissions import MFA_REQUIRED_ROLES
from core.security import SecretBox, hash_password
from models.base import utcnow
from models.merchants import Merchant
from models.mfa import SecondFactor
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
        box = SECRETS_AT_REST.get("box")
        if role.value in MFA_REQUIRED_ROLES and box is not None:
            give_second_factor(session, box, user)
        return user


# Set by the suite's `ctx` fixture: the Fernet keys the app decrypts TOTP secrets with.
SECRETS_AT_REST: dict[str, SecretBox] = {}
# Each test user's TOTP secret by email (what their authenticator app would hold), and the
# last time step the helper used, so a second login in one step uses the next code.
TOTP_SECRETS: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}


def give_second_factor(session: Session, box: SecretBox, user: User) -> str:
    """A confirmed second factor, as enrolment leaves it (without recovery codes: hashing ten
    of them for every test's administrator would cost seconds)."""
    secret = pyotp.random_base32()
    confirmed = SecondFactor(
        user_id=user.id, secret_encrypted=box.encrypt(secret), confirmed_at=utcnow()
    )
    session.add(confirmed)
    session.commit()
    TOTP_SECRETS[user.email] = secret
    return secret


def next_code(email: str) -> str:
    """The code an authenticator shows now, or the next step's when this one was used (the
    server takes one step of drift)."""
    totp = pyotp.TOTP(TOTP_SECRETS[email])
    now = int(time.time())
    step = max(totp.timecode(datetime.fromtimestamp(now, UTC)), _LAST_STEP.get(email, -1) + 1)
    _LAST_STEP[email] = step
    return totp.at(step * totp.interval)


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
    """Sign in as a person would: the password, then the second factor's code when the
    account has one, or enrolment when its role requires one and it has none."""
    response = await api.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    answer = response.json()
    if answer.get("mfa_required"):
        body = {"challenge": answer["challenge"], "code": next_code(email)}
        response = await api.post("/api/auth/mfa/verify", json=body)
        assert response.status_code == 200, response.text
        answer = response.json()
    elif answer.get("mfa_enrolment_required"):
        answer = await enrol(api, email, answer["challenge"])
    return {"Authorization": f"Bearer {answer['access_token']}"}


async def enrol(api: httpx.AsyncClient, email: str, challenge: str) -> dict[str, Any]:
    """Enrol with the login's enrolment challenge; the answer holds the session token and the
    recovery codes."""
    enrolment = await api.post("/api/auth/mfa/enrol", json={"challenge": challenge})
    assert enrolment.status_code == 200, enrolment.text
    TOTP_SECRETS[email] = enrolment.json()["secret"]
    body = {"challenge": challenge, "code": next_code(email)}
    confirmed = await api.post("/api/auth/mfa/confirm", json=body)
    assert confirmed.status_code == 200, confirmed.text
    answer: dict[str, Any] = confirmed.json()
    return answer


async def actor(api: httpx.AsyncClient, engine: Engine, role: Role) -> Actor:
    user = create_user(engine, role)
    return Actor(user.id, user.email, await login(api, user.email))


def worker_env(ctx: ServiceContext, task_queue: str, log_level: str = "WARNING") -> dict[str, str]:
    """Environment for a `worker.py` subprocess on the suite's services."""
    s = ctx.settings
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "ARGON2_PROFILE": s.argon2_profile,
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


async def page_login(
    api: httpx.AsyncClient, email: str, password: str = PASSWORD, next_path: str = ""
) -> httpx.Response:
    """Sign in on the pages (no browser): the form's CSRF token, the password, then the
    second factor's code when the account has one. The answer is the final 303."""
    api.cookies.clear()
    form = await api.get("/login")
    csrf = form.cookies["csrftoken"]
    # Sent by hand: the suite's cookies are Secure and this is plain http.
    headers = {"cookie": f"csrftoken={csrf}"}
    data = {"csrftoken": csrf, "next": next_path}
    answer = await api.post("/login", data=data | {"email": email, "password": password},
                            headers=headers)  # fmt: skip
    challenge = re.search(r'name="challenge" value="([^"]+)"', answer.text)
    if answer.status_code == 200 and challenge and email in TOTP_SECRETS:
        code = {"challenge": challenge[1], "code": next_code(email)}
        answer = await api.post("/login/code", data=data | code, headers=headers)
    return answer


class InProcessServer(uvicorn.Server):
    """uvicorn serving an app inside the test process. It leaves SIGINT and SIGTERM to
    pytest: uvicorn's own server takes them over while it serves, and an app starting its
    lifespan meanwhile would take that for a uvicorn process of its own (`api.draining`)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
