"""Rate limits, tested at values that trigger them, on Redis and on the in-process store."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.context import ServiceContext
from models.users import Role
from tests.conftest import MakeApi
from tests.factories import PASSWORD, create_user, login
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body


@pytest.fixture(params=["redis", "memory"])
async def limited(request: pytest.FixtureRequest, make_api: MakeApi) -> MakeApi:
    """An API app with the given limits (fresh counters), on Redis or in memory."""

    async def build(**limits: Any) -> httpx.AsyncClient:
        redis = request.param == "redis"
        return await make_api(**limits, **({} if redis else {"redis_url": None}))

    return build


def _assert_limited(response: httpx.Response, code: str = "rate_limited") -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == code
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_the_31st_create_in_a_minute_is_refused(
    limited: MakeApi, ctx: ServiceContext, worker: None
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


async def test_made_up_keys_hit_the_per_address_limit(limited: MakeApi) -> None:
    api = await limited(ip_rate_limit="20/minute")
    answers = [
        await api.get(
            "/api/gateway/payins/by-merchant-order/x", headers={"X-API-Key": f"jp_live_{i}"}
        )
        for i in range(21)
    ]
    assert {r.status_code for r in answers[:20]} == {401}
    _assert_limited(answers[20])


async def test_a_signed_in_user_has_a_budget_per_user(
    limited: MakeApi, ctx: ServiceContext
) -> None:
    api = await limited(user_rate_limit="5/minute")
    first, second = create_user(ctx.engine, Role.merchant), create_user(ctx.engine, Role.merchant)
    first_headers, second_headers = await login(api, first.email), await login(api, second.email)
    answers = [await api.get("/api/merchant/stores", headers=first_headers) for _ in range(6)]
    assert {r.status_code for r in answers[:5]} == {200}
    _assert_limited(answers[5])
    assert (await api.get("/api/merchant/stores", headers=second_headers)).status_code == 200


async def test_the_login_lockout_says_when_to_retry(limited: MakeApi, ctx: ServiceContext) -> None:
    api = await limited(login_rate_limit="3/minute")
    user = create_user(ctx.engine, Role.merchant)
    wrong = {"email": user.email, "password": "wrong-password"}
    assert [(await api.post("/api/auth/login", json=wrong)).status_code for _ in range(3)] == [
        401
    ] * 3
    blocked = await api.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    _assert_limited(blocked, "too_many_attempts")


async def test_a_made_up_forwarded_for_does_not_dodge_the_address_limit(make_api: MakeApi) -> None:
    # Real uvicorn, a client on loopback, no proxy configured (the `make run` default).
    api = await make_api(live=True, ip_rate_limit="3/minute")
    answers = [
        await api.get("/api/reference/currencies", headers={"X-Forwarded-For": f"198.51.100.{i}"})
        for i in range(4)
    ]
    assert [r.status_code for r in answers[:3]] == [200] * 3, answers[0].text
    _assert_limited(answers[3])


async def test_a_configured_proxy_names_the_client(make_api: MakeApi) -> None:
    api = await make_api(live=True, ip_rate_limit="3/minute", forwarded_allow_ips="127.0.0.1")
    url = "/api/reference/currencies"
    # Behind the proxy, each client it forwards for has a budget of its own…
    spread = [await api.get(url, headers={"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(4)]
    assert {r.status_code for r in spread} == {200}
    # …and one client is counted as one, however its address is written.
    same = ["203.0.113.9", "::ffff:203.0.113.9", "203.0.113.9", "::FFFF:cb00:7109"]
    answers = [await api.get(url, headers={"X-Forwarded-For": ip}) for ip in same]
    assert [r.status_code for r in answers[:3]] == [200] * 3
    _assert_limited(answers[3])
