"""Platform settings an administrator changes at run time: defaults from the environment,
overrides that new stores, new orders and the rate limits follow, every change audited, bad
values refused, and only administrators may write."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from contracts.processing import payin_workflow_id
from core.context import ServiceContext
from models.users import Role
from tests.conftest import MakeApi
from tests.factories import actor, create_user, login
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body

pytestmark = pytest.mark.usefixtures("no_platform_overrides")


def _by_key(listing: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in listing}


async def _merchant(api: httpx.AsyncClient, ctx: ServiceContext) -> dict[str, str]:
    return (await actor(api, ctx.engine, Role.merchant)).headers


async def test_new_stores_take_the_fee_and_deadlines_in_force(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    listing = _by_key((await api.get("/api/admin/settings", headers=admin_headers)).json())
    fee = listing["payin_fee_bps"]
    assert fee["source"] == "environment"
    assert fee["value"] == fee["default"] == ctx.settings.payin_fee_bps
    merchant = await _merchant(api, ctx)

    changed = await api.put(
        "/api/admin/settings/payin_fee_bps", json={"value": 150}, headers=admin_headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["source"] == "database" and changed.json()["value"] == 150
    await api.put(
        "/api/admin/settings/payment_deadline_seconds", json={"value": 600}, headers=admin_headers
    )
    store = (await api.post("/api/merchant/stores", json={"name": "A"}, headers=merchant)).json()
    assert (store["payin_fee_bps"], store["payment_deadline_seconds"]) == (150, 600)
    # A deadline the merchant chooses wins over the default; a fee is not the merchant's.
    chosen = await api.post(
        "/api/merchant/stores",
        json={"name": "B", "payment_deadline_seconds": 1200},
        headers=merchant,
    )
    assert chosen.json()["payment_deadline_seconds"] == 1200
    own_fee = await api.post(
        "/api/merchant/stores", json={"name": "C", "payin_fee_bps": 0}, headers=merchant
    )
    assert own_fee.status_code == 422
    assert own_fee.json()["error"]["code"] == "validation_error"

    reset = await api.delete("/api/admin/settings/payin_fee_bps", headers=admin_headers)
    assert reset.json()["source"] == "environment"
    assert reset.json()["value"] == ctx.settings.payin_fee_bps
    store = (await api.post("/api/merchant/stores", json={"name": "D"}, headers=merchant)).json()
    assert store["payin_fee_bps"] == ctx.settings.payin_fee_bps

    # This test's own two changes: the newest entries (others, such as the fuzzer's, are older).
    entries = (
        await api.get("/api/admin/audit?target_id=payin_fee_bps", headers=admin_headers)
    ).json()[:2]
    assert [(e["action"], e["target_type"]) for e in reversed(entries)] == [
        ("PUT /api/admin/settings/payin_fee_bps", "PlatformSetting"),
        ("DELETE /api/admin/settings/payin_fee_bps", "PlatformSetting"),
    ]
    put, deleted = reversed(entries)
    assert put["after"]["value"] == 150
    assert deleted["before"]["value"] == 150 and deleted["after"] == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("payin_fee_bps", -1),
        ("payin_fee_bps", 10_001),
        ("payin_fee_bps", True),
        ("payin_fee_bps", "150"),
        ("payin_fee_bps", None),
        ("payment_deadline_seconds", 10**30),
        ("callback_retry_delays_s", []),
        ("callback_retry_delays_s", [0, 60]),
        ("callback_retry_delays_s", "60,300"),
        ("api_rate_limit", "lots"),
        ("api_rate_limit", "0/minute"),
        ("api_rate_limit", "10 per minute"),  # the documented form only
    ],
)
async def test_a_bad_value_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, admin_headers: dict[str, str], key: str, value: Any
) -> None:
    answer = await api.put(
        f"/api/admin/settings/{key}", json={"value": value}, headers=admin_headers
    )
    assert answer.status_code == 422, answer.text
    # Each setting's body is its own in the document, so its type and bounds are checked there.
    assert answer.json()["error"]["code"] == "validation_error"
    listing = _by_key((await api.get("/api/admin/settings", headers=admin_headers)).json())
    assert listing[key]["source"] == "environment"


async def test_only_administrators_write_settings(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    unknown = await api.put(
        "/api/admin/settings/no_such_thing", json={"value": 1}, headers=admin_headers
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    support = await login(api, create_user(ctx.engine, Role.support).email)
    assert (await api.get("/api/admin/settings", headers=support)).status_code == 200
    for headers in (support, await _merchant(api, ctx)):
        refused = await api.put(
            "/api/admin/settings/payin_fee_bps", json={"value": 0}, headers=headers
        )
        assert refused.status_code == 403
        assert (
            await api.delete("/api/admin/settings/payin_fee_bps", headers=headers)
        ).status_code == 403
    merchant = await _merchant(api, ctx)
    assert (await api.get("/api/admin/settings", headers=merchant)).status_code == 403


async def test_a_lowered_store_limit_applies_at_once_and_in_other_processes(
    make_api: MakeApi, ctx: ServiceContext
) -> None:
    one = await make_api()
    # Another API process, which reads the settings on every request (no cache).
    other = await make_api(platform_settings_cache_seconds=0)
    admin = await login(one, create_user(ctx.engine, Role.admin).email)
    store = make_store(ctx, new_currency(ctx))
    lookup = "/api/gateway/payins/by-merchant-order/none"
    assert (await one.get(lookup, headers=store.headers)).status_code == 404

    lowered = await one.put(
        "/api/admin/settings/api_rate_limit", json={"value": "3/minute"}, headers=admin
    )
    assert lowered.status_code == 200, lowered.text
    for api in (one, other):
        answers = [(await api.get(lookup, headers=store.headers)).status_code for _ in range(4)]
        assert answers[-1] == 429, answers
        assert answers.count(404) <= 3


async def test_new_orders_carry_the_retry_ladder_in_force(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
) -> None:
    ladder = [2, 5, 9]
    changed = await api.put(
        "/api/admin/settings/callback_retry_delays_s", json={"value": ladder}, headers=admin_headers
    )
    assert changed.status_code == 200, changed.text
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    order = await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    assert order.status_code == 201, order.text
    client = await ctx.temporal.get()
    history = await client.get_workflow_handle(
        payin_workflow_id(order.json()["id"])
    ).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    workflow_input = json.loads(started.input.payloads[0].data)
    assert workflow_input["callback_delays_s"] == ladder
