"""Bad store settings and callback URLs answer clear 4xx errors, never 500s, and a URL is
checked for where it leads when it is set (not only at delivery)."""

from __future__ import annotations

import httpx
import pytest

from core.context import ServiceContext
from models.users import Role
from tests.conftest import MakeApi
from tests.factories import actor
from tests.processing.conftest import make_store, make_trader, new_currency

REFUSED_BY_SHAPE = [
    "ftp://shop.example.com/cb",
    "javascript:alert(1)",
    "https://user:pass@shop.example.com/cb",
    "shop.example.com/cb",
    "https://shop.example.com:65536/cb",
    "https://shop example.com/cb",
]
REFUSED_BY_ADDRESS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/",
    "http://127.0.0.1:8000/cb",
    "http://[::ffff:10.0.0.1]/cb",
    "http://[2002:a9fe:a9fe::1]/cb",  # 6to4 wrapping the metadata address
    "http://[64:ff9b::a00:1]/cb",  # NAT64 wrapping 10.0.0.1
    "http://100.64.0.1/cb",
    f"http://{'a' * 64}.example/cb",  # a label no resolver takes (was a 500)
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
        ({"payment_deadline_seconds": True}, "payment_deadline_seconds"),
        ({"payin_fee_bps": 0}, "payin_fee_bps"),
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


async def test_admin_patches_with_nulls_and_huge_numbers_are_clear_4xx(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency)
    store = make_store(ctx, currency)
    limits = f"/api/admin/requisites/{trader.requisite_ids[0]}/limits"
    for body in ({"priority": None}, {"min_amount_minor": None}, {"cooldown_seconds": None}):
        refused = await api.patch(limits, json=body, headers=admin_headers)
        assert _error(refused, 422)["code"] == "null_not_allowed"
    unlimited = await api.patch(limits, json={"daily_count_limit": None}, headers=admin_headers)
    assert unlimited.status_code == 200 and unlimited.json()["daily_count_limit"] is None
    huge: list[dict[str, object]] = [
        {"priority": 10**30},
        {"max_amount_minor": 10**30},
        {"priority": True},
    ]
    for wrong in huge:
        assert _error(await api.patch(limits, json=wrong, headers=admin_headers), 422)
    inverted = {"min_amount_minor": 900_000, "max_amount_minor": 100}
    assert _error(await api.patch(limits, json=inverted, headers=admin_headers), 422)

    traders = f"/api/admin/traders/{trader.trader_id}"
    assert _error(await api.patch(traders, json={"is_active": None}, headers=admin_headers), 422)
    fees = f"/api/admin/stores/{store.store_id}/processing"
    refused = await api.patch(fees, json={"payin_fee_bps": None}, headers=admin_headers)
    assert _error(refused, 422)["code"] == "null_not_allowed"

    deposit = await api.post(
        f"/api/admin/traders/{trader.trader_id}/deposit",
        json={"amount": "10.00", "currency": "XXX", "reference": "r1"},
        headers=admin_headers,
    )
    assert _error(deposit, 422)["code"] == "unknown_currency"


async def test_a_requisite_with_inverted_bounds_is_a_422_not_a_conflict(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0)
    body = {
        "number": "2200123412341234",
        "holder_name": "Ivan P.",
        "bank_code": "sber",
        "payment_method": "card",
        "currency": currency,
        "min_amount_minor": 900_000,
        "max_amount_minor": 100,
    }
    response = await api.post("/api/trader/requisites", json=body, headers=trader.headers)
    assert _error(response, 422)["code"] == "validation_error"
