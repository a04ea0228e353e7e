"""Failed logins: an attacker who knows an email is slowed, ever longer, from their address, but
cannot lock the owner out; the owner's right password from an address that has not been
failing still signs in. Clients are told apart by `X-Forwarded-For` from a configured proxy
(real uvicorn), on Redis and on the in-process store."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from core.context import ServiceContext
from models.users import Role
from tests.conftest import MakeApi
from tests.factories import PASSWORD, create_user

WRONG = "not-the-password"


@pytest.fixture(params=["redis", "memory"])
async def behind_proxy(request: pytest.FixtureRequest, make_api: MakeApi) -> MakeApi:
    async def build(**limits: Any) -> httpx.AsyncClient:
        store = {} if request.param == "redis" else {"redis_url": None}
        return await make_api(live=True, forwarded_allow_ips="127.0.0.1", **limits, **store)

    return build


async def _login(api: httpx.AsyncClient, email: str, password: str, ip: str) -> httpx.Response:
    body = {"email": email, "password": password}
    return await api.post("/api/auth/login", json=body, headers={"X-Forwarded-For": ip})


async def _page_login(api: httpx.AsyncClient, email: str, ip: str) -> httpx.Response:
    api.cookies.clear()
    headers = {"X-Forwarded-For": ip}
    form = await api.get("/login", headers=headers)
    token = form.text.split('name="csrftoken" value="', 1)[1].split('"', 1)[0]
    data = {"email": email, "password": PASSWORD, "csrftoken": token}
    # sent by hand: the test suite's cookies are Secure and this is plain http
    cookie = {"cookie": f"csrftoken={form.cookies['csrftoken']}"}
    return await api.post("/login", data=data, headers=headers | cookie)


def _refused(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "too_many_attempts"
    return int(response.headers["Retry-After"])


async def test_an_attacker_cannot_lock_the_owner_out(
    behind_proxy: MakeApi, ctx: ServiceContext
) -> None:
    api = await behind_proxy(login_rate_limit="3/minute", login_pair_rate_limit="3/minute")
    owner = create_user(ctx.engine, Role.merchant)
    attacker = "198.51.100.66"
    answers = [await _login(api, owner.email, WRONG, attacker) for _ in range(4)]
    assert [r.status_code for r in answers[:3]] == [401] * 3
    assert 1 <= _refused(answers[3]) <= 60
    # The attacker's address stays refused, even with the right password…
    _refused(await _login(api, owner.email, PASSWORD, attacker))
    # …while the owner, from an address that has not been failing, signs in.
    signed = await _login(api, owner.email, PASSWORD, "203.0.113.40")
    assert signed.status_code == 200, signed.text
    assert signed.json()["access_token"]
    page = await _page_login(api, owner.email, "203.0.113.41")
    assert page.status_code == 303, page.text


async def test_past_the_email_limit_each_new_address_gets_one_guess(
    behind_proxy: MakeApi, ctx: ServiceContext
) -> None:
    api = await behind_proxy(login_rate_limit="3/minute", login_pair_rate_limit="10/minute")
    owner = create_user(ctx.engine, Role.merchant)
    spread = [await _login(api, owner.email, WRONG, f"198.51.100.{i}") for i in range(3)]
    assert {r.status_code for r in spread} == {401}
    # The email is past its limit: a fresh address may try once, then waits like the rest.
    assert (await _login(api, owner.email, WRONG, "198.51.100.77")).status_code == 401
    _refused(await _login(api, owner.email, PASSWORD, "198.51.100.77"))
    _refused(await _login(api, owner.email, WRONG, "198.51.100.1"))
    assert (await _login(api, owner.email, PASSWORD, "203.0.113.50")).status_code == 200


async def test_one_address_waits_longer_and_longer(
    behind_proxy: MakeApi, ctx: ServiceContext
) -> None:
    # A short first step (5 s: wide enough that a slow machine still lands three attempts in
    # it), then a long one.
    api = await behind_proxy(login_pair_rate_limit="2/5 seconds;3/hour")
    user = create_user(ctx.engine, Role.merchant)
    ip = "198.51.100.88"
    assert [(await _login(api, user.email, WRONG, ip)).status_code for _ in range(2)] == [401] * 2
    assert 1 <= _refused(await _login(api, user.email, WRONG, ip)) <= 5
    # Once the short step has passed, one more try; then the next step's wait, far longer.
    deadline = time.monotonic() + 15
    while (third := await _login(api, user.email, WRONG, ip)).status_code == 429:
        assert time.monotonic() < deadline, third.text
        await asyncio.sleep(0.1)
    assert third.status_code == 401
    assert _refused(await _login(api, user.email, WRONG, ip)) > 60
    # Another address is not slowed by this one.
    assert (await _login(api, user.email, PASSWORD, "203.0.113.60")).status_code == 200


async def test_one_address_guessing_many_emails_is_refused(
    behind_proxy: MakeApi, ctx: ServiceContext
) -> None:
    api = await behind_proxy(login_ip_rate_limit="3/minute")
    users = [create_user(ctx.engine, Role.merchant) for _ in range(4)]
    ip = "198.51.100.99"
    answers = [await _login(api, user.email, WRONG, ip) for user in users]
    assert [r.status_code for r in answers[:3]] == [401] * 3
    _refused(answers[3])
    assert (await _login(api, users[3].email, PASSWORD, "203.0.113.70")).status_code == 200
