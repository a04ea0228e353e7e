"""Merchant callbacks: retried over the ladder, every attempt logged, re-sendable, SSRF-safe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from contracts.processing import DEFAULT_CALLBACK_DELAYS_S
from core.context import ServiceContext
from core.settings import Settings
from processing.callbacks.signing import CallbackBlockedError, new_signing_secret, pin_target
from tests.processing.conftest import (
    CallbackReceiver,
    Received,
    make_store,
    make_trader,
    new_currency,
    payin_body,
    verify_signature,
)


async def deliveries_when(
    api: httpx.AsyncClient, headers: dict, order_id: str, status: str
) -> list:
    body: list = []
    for _ in range(150):
        body = (await api.get(f"/api/gateway/payins/{order_id}/callbacks", headers=headers)).json()
        if body and body[0]["status"] == status:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"deliveries never reached {status}: {body}")


async def completed_order(
    api: httpx.AsyncClient, ctx: ServiceContext, url: str, **store_fields: Any
) -> tuple:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, callback_url=url, **store_fields)
    trader = await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    done = await api.post(f"/api/trader/orders/{order['id']}/confirm", headers=trader.headers)
    assert done.json()["status"] == "completed"
    return store, order


async def test_failing_endpoint_retried_then_delivered_once(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, receiver: CallbackReceiver
) -> None:
    receiver.failures = 2
    store, order = await completed_order(api, ctx, receiver.url)
    deliveries = await deliveries_when(api, store.headers, order["id"], "delivered")
    attempts = deliveries[0]["attempts"]
    assert [a["status_code"] for a in attempts] == [500, 500, 204]
    assert [a["attempt_no"] for a in attempts] == [1, 2, 3]
    assert attempts[0]["error"] == "HTTP 500" and attempts[2]["error"] is None
    assert len(receiver.received) == 3
    event_ids = {verify_signature(store.secret, r)["id"] for r in receiver.received}
    assert event_ids == {deliveries[0]["event_id"]}

    resent = await api.post(
        f"/api/gateway/payins/{order['id']}/callbacks/{deliveries[0]['event_id']}/resend",
        headers=store.headers,
    )
    assert resent.status_code == 202
    for _ in range(100):
        if len(receiver.received) == 4:
            break
        await asyncio.sleep(0.1)
    assert verify_signature(store.secret, receiver.received[3])["id"] == deliveries[0]["event_id"]
    assert receiver.received[3].body == receiver.received[0].body


async def test_rotated_secret_signs_alongside_the_new_one_until_it_expires(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, receiver: CallbackReceiver
) -> None:
    old_secret = new_signing_secret()
    store, order = await completed_order(
        api,
        ctx,
        receiver.url,
        previous_signing_secret_encrypted=ctx.secrets.encrypt(old_secret),
        previous_signing_secret_expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    await deliveries_when(api, store.headers, order["id"], "delivered")
    received = receiver.received[0]
    signatures = {k.lower(): v for k, v in received.headers.items()}["webhook-signature"]
    assert len(signatures.split(" ")) == 2
    assert (
        verify_signature(store.secret, received)["id"]
        == verify_signature(old_secret, received)["id"]
    )

    expired_store, expired_order = await completed_order(
        api,
        ctx,
        receiver.url,
        previous_signing_secret_encrypted=ctx.secrets.encrypt(old_secret),
        previous_signing_secret_expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    await deliveries_when(api, expired_store.headers, expired_order["id"], "delivered")
    latest = receiver.received[-1]
    assert len({k.lower(): v for k, v in latest.headers.items()}["webhook-signature"].split()) == 1
    verify_signature(expired_store.secret, latest)
    with pytest.raises(WebhookVerificationError):
        verify_signature(old_secret, latest)


async def test_dead_endpoint_never_changes_the_order(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, receiver: CallbackReceiver
) -> None:
    receiver.failures = 100
    store, order = await completed_order(api, ctx, receiver.url)
    deliveries = await deliveries_when(api, store.headers, order["id"], "failed")
    assert len(deliveries[0]["attempts"]) == 5  # first try + the four-rung test ladder
    final = await api.get(f"/api/gateway/payins/{order['id']}", headers=store.headers)
    assert final.json()["status"] == "completed"


async def test_refused_url_fails_at_once_without_the_ladder(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    store, order = await completed_order(api, ctx, "http://metadata.google.internal/hook")
    deliveries = await deliveries_when(api, store.headers, order["id"], "failed")
    attempts = deliveries[0]["attempts"]
    assert len(attempts) == 1
    assert attempts[0]["status_code"] is None
    assert attempts[0]["error"] == "blocked: metadata hosts are refused"
    final = await api.get(f"/api/gateway/payins/{order['id']}", headers=store.headers)
    assert final.json()["status"] == "completed"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.7/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "ftp://example.com/hook",
        "http://metadata.google.internal/",
    ],
)
async def test_ssrf_guard_refuses_internal_targets(url: str) -> None:
    with pytest.raises(CallbackBlockedError):
        await pin_target(url, allow_private=False)


async def test_ssrf_guard_pins_resolved_address() -> None:
    target = await pin_target("http://127.0.0.1:9/x?y=1", allow_private=True)
    assert target.url == "http://127.0.0.1:9/x?y=1" and target.host == "127.0.0.1:9"


def test_the_retry_ladder_keeps_trying_for_at_least_three_days() -> None:
    # What a new platform runs with: the environment's default (no override set).
    delays = Settings.model_fields["callback_retry_delays_s"].get_default(call_default_factory=True)
    assert delays == list(DEFAULT_CALLBACK_DELAYS_S)
    assert sum(delays) >= 3 * 86400
    assert list(delays) == sorted(delays)  # never hammering a receiver that is down


async def test_the_demo_merchant_inbox_keeps_what_a_merchant_verifies(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, bank_emulator: str
) -> None:
    """`make run`'s demo store sends its callbacks to the bundled emulator's inbox; what the
    inbox lists verifies with the official package and the store's signing secret."""
    inbox = f"{bank_emulator}/merchant-inbox/callbacks"
    store, order = await completed_order(api, ctx, inbox)
    await deliveries_when(api, store.headers, order["id"], "delivered")
    async with httpx.AsyncClient() as client:
        kept = (await client.get(inbox)).json()
    mine = [k for k in kept if order["id"] in k["body"]]
    assert len(mine) == 1, kept
    got = Received(mine[0]["headers"], mine[0]["body"].encode())
    event = verify_signature(store.secret, got)
    assert (event["type"], event["data"]["order_id"]) == ("payin.completed", order["id"])
