"""Rate limits, tested at values that trigger them, on Redis and on the in-process store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from api.main import create_app
from core.context import ServiceContext
from models.users import Role
from tests.factories import PASSWORD, create_user, login
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body

Client = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture(params=["redis", "memory"])
async def limited(
    request: pytest.FixtureRequest, ctx: ServiceContext
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """An API app with the given limits (fresh counters), on Redis or in memory."""
    clients: list[httpx.AsyncClient] = []
    lifespans = []

    async def build(**limits: str) -> httpx.AsyncClient:
        settings = ctx.settings.model_copy(
            update={
                **limits,
                "redis_key_prefix": f"{ctx.settings.redis_key_prefix}{uuid.uuid4().hex[:6]}:",
                "redis_url": ctx.settings.redis_url if request.param == "redis" else None,
            }
        )
        app = create_app(settings, context=ctx)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        lifespans.append(lifespan)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()
    for lifespan in lifespans:
        await lifespan.__aexit__(None, None, None)


def _assert_limited(response: httpx.Response, code: str = "rate_limited") -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == code
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_the_31st_create_in_a_minute_is_refused(
    limited: Client, ctx: ServiceContext, worker: None
) -> None:
    api = await limited(api_rate_limit="30/minute")
    currency = new_currency(ctx)
    for _ in range(11):  # a trader holds at most three open orders
        await make_trader(api, ctx, currency)
    store, other = make_store(ctx, currency), make_store(ctx, currency)
    answers = [
        await api.post(
            "/api/gateway/payins", json=payin_body(currency, f"{100 + i}.00"), headers=store.headers
        )
        for i in range(31)
    ]
    assert [r.status_code for r in answers[:30]] == [201] * 30, answers[0].text
    _assert_limited(answers[30])
    # Another store's key has a budget of its own.
    fresh = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "131.00"), headers=other.headers
    )
    assert fresh.status_code == 201, fresh.text


async def test_made_up_keys_hit_the_per_address_limit(limited: Client) -> None:
    api = await limited(ip_rate_limit="20/minute")
    answers = [
        await api.get(
            "/api/gateway/payins/by-merchant-order/x", headers={"X-API-Key": f"jp_live_{i}"}
        )
        for i in range(21)
    ]
    assert {r.status_code for r in answers[:20]} == {401}
    _assert_limited(answers[20])


async def test_a_signed_in_user_has_a_budget_per_user(limited: Client, ctx: ServiceContext) -> None:
    api = await limited(user_rate_limit="5/minute")
    first, second = create_user(ctx.engine, Role.merchant), create_user(ctx.engine, Role.merchant)
    first_headers, second_headers = await login(api, first.email), await login(api, second.email)
    answers = [await api.get("/api/merchant/stores", headers=first_headers) for _ in range(6)]
    assert {r.status_code for r in answers[:5]} == {200}
    _assert_limited(answers[5])
    assert (await api.get("/api/merchant/stores", headers=second_headers)).status_code == 200


async def test_the_login_lockout_says_when_to_retry(limited: Client, ctx: ServiceContext) -> None:
    api = await limited(login_rate_limit="3/minute")
    user = create_user(ctx.engine, Role.merchant)
    wrong = {"email": user.email, "password": "wrong-password"}
    assert [(await api.post("/api/auth/login", json=wrong)).status_code for _ in range(3)] == [
        401
    ] * 3
    blocked = await api.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    _assert_limited(blocked, "too_many_attempts")
