"""Registration, login, tokens and roles, through the HTTP API."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import jwt

from core.context import ServiceContext
from models.users import Role
from tests.factories import PASSWORD, actor, create_user, login


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_register_login_me(api: httpx.AsyncClient) -> None:
    email = _email()
    created = await api.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "full_name": "Ann"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == "connect_user"
    assert "external_client_id" not in body  # assigned on first bank connection, not here
    assert "password" not in body and "password_hash" not in json.dumps(body)
    assert PASSWORD not in json.dumps(body)  # the password itself, in no form
    assert body["password_change_required"] is False

    headers = await login(api, email)
    me = await api.get("/api/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == email


async def test_register_twice_is_conflict(api: httpx.AsyncClient) -> None:
    email = _email()
    first = await api.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert first.status_code == 201
    again = await api.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


async def test_register_rejects_short_password_with_error_shape(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/auth/register", json={"email": _email(), "password": "short"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(item["loc"][-1] == "password" for item in error["details"])


async def test_wrong_password_is_401(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    user = create_user(ctx.engine, Role.trader)
    response = await api.post(
        "/api/auth/login", json={"email": user.email, "password": "not-the-password"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    unknown = await api.post("/api/auth/login", json={"email": _email(), "password": PASSWORD})
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "invalid_credentials"


async def test_alg_none_token_is_rejected(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    user = create_user(ctx.engine, Role.admin)
    header = _b64({"alg": "none", "typ": "JWT"})
    claims = {
        "sub": str(user.id),
        "role": "admin",
        "iss": ctx.settings.jwt_issuer,
        "aud": ctx.settings.jwt_audience,
        "iat": 1_700_000_000,
        "exp": 4_000_000_000,
    }
    token = f"{header}.{_b64(claims)}."
    response = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


async def test_tampered_and_foreign_tokens_are_rejected(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    someone = await actor(api, ctx.engine, Role.trader)
    token = someone.headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = f"{header}.{_b64(claims)}.{signature}"
    response = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"

    wrong_key = jwt.encode(
        {**claims, "role": "trader"}, "another-secret-of-sufficient-length!!", "HS256"
    )
    response = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {wrong_key}"})
    assert response.status_code == 401

    expired = jwt.encode(
        {**claims, "role": "trader", "exp": 1_000},
        ctx.settings.jwt_secret.get_secret_value(),
        "HS256",
    )
    response = await api.get("/api/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401

    ok = await api.get("/api/auth/me", headers=someone.headers)
    assert ok.status_code == 200


async def test_missing_token_is_401(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


async def test_role_is_enforced(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    trader = await actor(api, ctx.engine, Role.trader)
    response = await api.get("/api/merchant/stores", headers=trader.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_required"


async def test_repeated_failed_logins_are_throttled(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    user = create_user(ctx.engine, Role.merchant)
    # One address failing on one email waits once past the first step of its ladder (the
    # owner elsewhere still signs in: tests/foundation/test_login_lockout.py).
    limit = int(ctx.settings.login_pair_rate_limit.split(";")[0].split("/")[0])
    wrong = {"email": user.email, "password": "wrong-password"}
    for _ in range(limit):
        assert (await api.post("/api/auth/login", json=wrong)).status_code == 401
    blocked = await api.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "too_many_attempts"
