"""Bad store settings and callback URLs answer clear 4xx errors, never 500s, and a URL is
checked for where it leads when it is set (not only at delivery)."""

from __future__ import annotations

import httpx
import pytest

from core.context import ServiceContext
from models.users import Role
from tests.conftest import MakeApi
from tests.factories import actor

REFUSED_BY_SHAPE = [
    "ftp://shop.example.com/cb",
    "javascript:alert(1)",
    "https://user:pass@shop.example.com/cb",
    "shop.example.com/cb",
]
REFUSED_BY_ADDRESS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/",
    "http://127.0.0.1:8000/cb",
    "http://[::ffff:10.0.0.1]/cb",
    "http://[2002:a9fe:a9fe::1]/cb",  # 6to4 wrapping the metadata address
    "http://[64:ff9b::a00:1]/cb",  # NAT64 wrapping 10.0.0.1
    "http://100.64.0.1/cb",
]


@pytest.fixture
async def strict_api(make_api: MakeApi) -> httpx.AsyncClient:
    """The API as deployed: callbacks may not reach private addresses."""
    return await make_api(callback_allow_private=False)


def _error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    return error


@pytest.mark.parametrize("url", REFUSED_BY_SHAPE)
async def test_a_callback_url_of_the_wrong_shape_is_a_422(
    strict_api: httpx.AsyncClient, ctx: ServiceContext, url: str
) -> None:
    merchant = await actor(strict_api, ctx.engine, Role.merchant)
    body = {"name": "Shop", "callback_url": url}
    response = await strict_api.post("/api/merchant/stores", json=body, headers=merchant.headers)
    assert _error(response, 422)["code"] == "validation_error"


@pytest.mark.parametrize("url", REFUSED_BY_ADDRESS)
async def test_a_callback_url_leading_inside_is_refused_when_set(
    strict_api: httpx.AsyncClient, ctx: ServiceContext, url: str
) -> None:
    merchant = await actor(strict_api, ctx.engine, Role.merchant)
    body = {"name": "Shop", "callback_url": url}
    response = await strict_api.post("/api/merchant/stores", json=body, headers=merchant.headers)
    assert _error(response, 422)["code"] == "callback_url_refused"


async def test_the_callback_url_can_be_changed_and_is_checked_again(
    strict_api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    merchant = await actor(strict_api, ctx.engine, Role.merchant)
    created = await strict_api.post(
        "/api/merchant/stores",
        json={"name": "Shop", "callback_url": "https://93.184.215.14/cb"},
        headers=merchant.headers,
    )
    assert created.status_code == 201, created.text
    path = f"/api/merchant/stores/{created.json()['id']}"
    changed = await strict_api.patch(
        path, json={"callback_url": "https://8.8.8.8/hooks"}, headers=merchant.headers
    )
    assert changed.status_code == 200 and changed.json()["callback_url"] == "https://8.8.8.8/hooks"
    inside = await strict_api.patch(
        path, json={"callback_url": "http://10.1.2.3/"}, headers=merchant.headers
    )
    assert _error(inside, 422)["code"] == "callback_url_refused"
    removed = await strict_api.patch(path, json={"callback_url": None}, headers=merchant.headers)
    assert removed.status_code == 200 and removed.json()["callback_url"] is None
    stranger = await actor(strict_api, ctx.engine, Role.merchant)
    other = await strict_api.patch(path, json={"callback_url": None}, headers=stranger.headers)
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"min_amount_minor": 50_000, "max_amount_minor": 10_000}, None),
        ({"min_amount_minor": 10**30}, "min_amount_minor"),
        ({"payin_fee_bps": True}, "payin_fee_bps"),
        ({"payin_enabled": 1}, "payin_enabled"),
        ({"currency": "rub"}, "currency"),
    ],
)
async def test_bad_store_settings_are_a_422_naming_the_field(
    api: httpx.AsyncClient, ctx: ServiceContext, changes: dict[str, object], field: str | None
) -> None:
    merchant = await actor(api, ctx.engine, Role.merchant)
    response = await api.post(
        "/api/merchant/stores", json={"name": "Shop", **changes}, headers=merchant.headers
    )
    error = _error(response, 422)
    assert error["code"] == "validation_error"
    if field is not None:
        assert field in str(error["details"])


async def test_an_unknown_currency_is_a_422(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    merchant = await actor(api, ctx.engine, Role.merchant)
    response = await api.post(
        "/api/merchant/stores", json={"name": "Shop", "currency": "XXX"}, headers=merchant.headers
    )
    assert _error(response, 422)["code"] == "unknown_currency"
