"""Pay-outs under bad input and concurrency: balance never negative, one taker wins,
strangers get 404, deadlines (take, pay) end or return an order, nothing held twice."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial

import httpx
import pytest
from sqlmodel import Session, select

from core.context import ServiceContext
from models.ledger import Hold, HoldStatus
from models.orders import Order, OrderEvent
from tests.processing.conftest import CallbackReceiver, new_currency, verify_signature
from tests.processing.payout_kit import (
    PNG,
    as_client,
    balance,
    create_payout,
    fund_store,
    ledger_sum,
    payout_body,
    payout_store,
    payout_trader,
    wait_escalated,
    wait_payout,
)


@pytest.mark.parametrize(
    ("recipient", "field"),
    [
        ({"card_number": "4111 1111 1111 1112"}, "card_number"),  # fails the Luhn check
        ({"card_number": "4111-abcd"}, "card_number"),
        ({"phone": "89001234567", "bank_code": "sber"}, "phone"),  # not international
        ({"phone": "+79001234567"}, "recipient"),  # a phone needs the bank
        ({"card_number": "4111111111111111", "phone": "+79001234567"}, "recipient"),
        ({}, "recipient"),
    ],
)
async def test_malformed_recipient_is_422(
    api: httpx.AsyncClient, ctx: ServiceContext, recipient: dict, field: str
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    body = {**payout_body(currency), "recipient": recipient}
    response = await api.post("/api/gateway/payouts", json=body, headers=store.headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in str(error["details"])
    with Session(ctx.engine) as session:
        assert session.exec(select(Order).where(Order.store_id == store.store_id)).first() is None


async def test_phone_recipient_masked(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "5000.00")
    body = {
        **payout_body(currency),
        "recipient": {"phone": "+7 900 123-45-67", "bank_code": "sber"},
    }
    response = await api.post("/api/gateway/payouts", json=body, headers=store.headers)
    assert response.status_code == 201, response.text
    assert response.json()["recipient"] == {
        "kind": "phone",
        "number": "****4567",
        "bank_code": "sber",
    }


async def test_insufficient_balance_holds_nothing_and_frees_the_order_id(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "1000.00")
    body = payout_body(currency, "1000.00")  # + 2 % fee = 1020.00 > 1000.00
    short = await api.post("/api/gateway/payouts", json=body, headers=store.headers)
    assert short.status_code == 422, short.text
    assert short.json()["error"]["code"] == "insufficient_balance"
    assert balance(ctx, store.store_id, "store", currency) == (100_000, 0)

    await fund_store(api, admin_headers, store, "20.00")
    retry = await api.post(
        "/api/gateway/payouts",
        json=body,
        headers={**store.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert retry.status_code == 201, retry.text
    assert balance(ctx, store.store_id, "store", currency) == (102_000, 102_000)


async def test_disabled_store_and_unknown_bank(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    currency = new_currency(ctx)
    closed = payout_store(ctx, currency, payout_enabled=False)
    response = await api.post(
        "/api/gateway/payouts", json=payout_body(currency), headers=closed.headers
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "payout_disabled")
    store = payout_store(ctx, currency)
    body = {**payout_body(currency), "recipient": {"phone": "+79001234567", "bank_code": "nope"}}
    response = await api.post("/api/gateway/payouts", json=body, headers=store.headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "unknown_bank_code")


async def test_fifty_concurrent_payouts_never_overdraw(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "10200.00")  # exactly ten of 1000 + 20 fee

    async def create() -> int:
        body = payout_body(currency, "1000.00")  # a 503 order_not_ready is sent again
        key = {"Idempotency-Key": body["merchant_order_id"]}
        send = partial(api.post, "/api/gateway/payouts", json=body, headers=store.headers | key)
        return (await as_client(send)).status_code

    codes = await asyncio.gather(*(create() for _ in range(50)))
    assert sorted(set(codes)) == [201, 422], codes
    assert codes.count(201) == 10
    assert balance(ctx, store.store_id, "store", currency) == (1_020_000, 1_020_000)
    with Session(ctx.engine) as session:
        holds = session.exec(select(Hold).join(Order).where(Order.store_id == store.store_id)).all()
        assert len(holds) == 10


async def test_fifty_traders_take_one_payout_one_wins(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "2000.00")
    traders = await asyncio.gather(*(payout_trader(api, ctx, currency) for _ in range(50)))
    payout = await create_payout(api, store)
    url = f"/api/trader/payouts/{payout['id']}"

    async def take(headers: dict[str, str]) -> httpx.Response:
        # Past Temporal's 10 in-flight updates per workflow a take may be 503: sent again.
        return await as_client(partial(api.post, f"{url}/take", headers=headers))

    answers = await asyncio.gather(*(take(t.headers) for t in traders))
    codes = [a.status_code for a in answers]
    assert codes.count(200) == 1, codes
    assert set(codes) == {200, 409}
    refusals = {a.json()["error"]["code"] for a in answers if a.status_code == 409}
    assert refusals <= {"already_taken", "invalid_transition"}
    winner = traders[codes.index(200)]
    with Session(ctx.engine) as session:
        order = session.get(Order, uuid.UUID(payout["id"]))
        assert order is not None and order.trader_id == winner.trader_id
        assigned = session.exec(
            select(OrderEvent).where(
                OrderEvent.order_id == order.id, OrderEvent.to_status == "assigned"
            )
        ).all()
        assert len(assigned) == 1


async def test_strangers_and_wrong_steps(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, payout_review_seconds=600)
    await fund_store(api, admin_headers, store, "5000.00")
    owner, stranger = [await payout_trader(api, ctx, currency) for _ in range(2)]
    other_currency_trader = await payout_trader(api, ctx, new_currency(ctx))
    not_enabled = await payout_trader(api, ctx, currency, payout_enabled=False)
    payout = await create_payout(api, store)
    url = f"/api/trader/payouts/{payout['id']}"

    # paying a pay-out nobody has taken yet: 409 (it exists, it is in the pool), nothing stored
    proof = {"proof": ("p.png", PNG, "image/png")}
    early = await api.post(f"{url}/paid", files=proof, headers=owner.headers)
    assert (early.status_code, early.json()["error"]["code"]) == (409, "invalid_transition")
    assert "Take the pay-out" in early.json()["error"]["message"]
    # the pool's pay-out reads as it is (where a take's 202 says to poll), recipient masked
    pooled = await api.get(url, headers=stranger.headers)
    assert (pooled.status_code, pooled.json()["status"]) == (200, "created")
    assert pooled.json()["recipient"]["number"].startswith("****"), pooled.json()
    denied = await api.post(f"{url}/take", headers=not_enabled.headers)
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "payout_disabled")
    elsewhere = await api.post(f"{url}/take", headers=other_currency_trader.headers)
    assert elsewhere.status_code == 404

    assert (await api.post(f"{url}/take", headers=owner.headers)).status_code == 200
    again = await api.post(f"{url}/take", headers=stranger.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_taken")
    # The taker's own retry is answered with the pay-out (recipient in full), not a refusal.
    retried = await api.post(f"{url}/take", headers=owner.headers)
    assert (retried.status_code, retried.json()["status"]) == (200, "assigned"), retried.text
    assert (await api.get(url, headers=stranger.headers)).status_code == 404
    theirs = await api.post(f"{url}/paid", files=proof, headers=stranger.headers)
    assert theirs.status_code == 404
    cancel = await api.post(f"/api/gateway/payouts/{payout['id']}/cancel", headers=store.headers)
    assert (cancel.status_code, cancel.json()["error"]["code"]) == (409, "invalid_transition")

    no_proof = await api.post(f"{url}/paid", headers=owner.headers)
    assert no_proof.status_code == 422
    bad_proof = await api.post(
        f"{url}/paid",
        files={"proof": ("p.gif", b"GIF89a" + bytes(64), "image/gif")},
        headers=owner.headers,
    )
    assert bad_proof.status_code == 415
    paid = await api.post(f"{url}/paid", files=proof, headers=owner.headers)
    assert paid.json()["status"] == "paid"
    # Marked paid again by the same trader (a retry): the pay-out as it is, nothing twice.
    twice = await api.post(f"{url}/paid", files=proof, headers=owner.headers)
    assert (twice.status_code, twice.json()["status"]) == (200, "paid"), twice.text
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 102_000)


async def test_trader_capacity(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency, max_open_payouts=1)
    first, second = [await create_payout(api, store) for _ in range(2)]
    url = "/api/trader/payouts/{}/take"
    assert (await api.post(url.format(first["id"]), headers=trader.headers)).status_code == 200
    full = await api.post(url.format(second["id"]), headers=trader.headers)
    assert (full.status_code, full.json()["error"]["code"]) == (409, "capacity_reached")
    await api.post(
        f"/api/trader/payouts/{first['id']}/paid",
        files={"proof": ("p.png", PNG, "image/png")},
        headers=trader.headers,
    )
    assert (await api.post(url.format(second["id"]), headers=trader.headers)).status_code == 200
    offline = await payout_trader(api, ctx, currency, is_online=False)
    third = await create_payout(api, store)
    away = await api.post(url.format(third["id"]), headers=offline.headers)
    assert (away.status_code, away.json()["error"]["code"]) == (409, "trader_offline")


async def test_a_take_refused_inside_the_workflow_does_not_refuse_later_takes(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    """Two takes at once pass the API's capacity check; the database refuses one under the
    trader's lock, inside the workflow. That refusal says `capacity_reached`, and once the
    trader has room again the same take of the same pay-out goes through (Temporal keeps a
    handler's refusal as the answer to its update id: a later attempt must not get it)."""
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, payout_review_seconds=600)
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency, max_open_payouts=1)
    url = "/api/trader/payouts/{}/take"
    for _ in range(10):  # the two takes must overlap: the API's check then lets both through
        pair = [await create_payout(api, store) for _ in range(2)]
        answers = await asyncio.gather(
            *(api.post(url.format(p["id"]), headers=trader.headers) for p in pair)
        )
        codes = sorted(a.status_code for a in answers)
        refused = [a.json()["error"] for a in answers if a.status_code == 409]
        assert codes == [200, 409], [a.text for a in answers]
        assert refused[0]["code"] == "capacity_reached", refused
        won, lost = (pair[0], pair[1]) if answers[0].status_code == 200 else (pair[1], pair[0])
        if await decided_in_workflow(ctx, lost["id"]):
            break
        # The API's own check refused it (no overlap): the pay-out left is freed and retried.
        await api.post(
            f"/api/trader/payouts/{won['id']}/paid",
            files={"proof": ("p.png", PNG, "image/png")},
            headers=trader.headers,
        )
    else:
        raise AssertionError("the two takes never overlapped")
    paid = await api.post(
        f"/api/trader/payouts/{won['id']}/paid",
        files={"proof": ("p.png", PNG, "image/png")},
        headers=trader.headers,
    )
    assert paid.json()["status"] == "paid", paid.text
    again = await api.post(url.format(lost["id"]), headers=trader.headers)
    assert (again.status_code, again.json()["status"]) == (200, "assigned"), again.text


async def decided_in_workflow(ctx: ServiceContext, order_id: str) -> bool:
    """Whether a take of this pay-out reached its workflow (and was refused there)."""
    temporal = await ctx.temporal.get()
    handle = temporal.get_workflow_handle(f"payout-{order_id}")
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            name = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if name.input.name == "take":
                return True
    return False


async def test_merchant_cancel_before_take_releases_the_hold(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    receiver: CallbackReceiver,
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, callback_url=receiver.url)
    await fund_store(api, admin_headers, store, "5000.00")
    payout = await create_payout(api, store)
    cancelled = await api.post(
        f"/api/gateway/payouts/{payout['id']}/cancel",
        json={"reason": "customer changed their mind"},
        headers=store.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 0)
    await asyncio.to_thread(receiver.event.wait, 10)
    event = verify_signature(store.secret, receiver.received[-1])
    assert event["type"] == "payout.cancelled"


async def test_nobody_takes_it_expires_and_releases(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, payout_take_seconds=2)
    await fund_store(api, admin_headers, store, "5000.00")
    payout = await create_payout(api, store)
    await wait_payout(api, store, payout["id"], "expired")
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 0)
    with Session(ctx.engine) as session:
        hold = session.exec(select(Hold).where(Hold.order_id == uuid.UUID(payout["id"]))).one()
        assert hold.status == HoldStatus.voided


async def test_unpaid_in_time_goes_to_dispute_then_escalates(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    no_platform_overrides: None,
) -> None:
    sla = await api.put(
        "/api/admin/settings/dispute_sla_seconds", json={"value": 1}, headers=admin_headers
    )
    assert sla.status_code == 200, sla.text
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, payout_pay_seconds=2)
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)
    payout = await create_payout(api, store)
    await api.post(f"/api/trader/payouts/{payout['id']}/take", headers=trader.headers)
    disputed = await wait_payout(api, store, payout["id"], "disputed")
    assert disputed["dispute"]["opened_by"] == "system"
    await wait_escalated(api, admin_headers, payout["id"])
    # escalated, never decided: still disputed, still held
    assert (await wait_payout(api, store, payout["id"], "disputed"))["dispute"]["escalated_at"]
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 102_000)


async def test_unpaid_in_time_returns_to_the_pool_when_set(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    no_platform_overrides: None,
) -> None:
    setting = await api.put(
        "/api/admin/settings/payout_unpaid_action", json={"value": "pool"}, headers=admin_headers
    )
    assert setting.status_code == 200, setting.text
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, payout_pay_seconds=2)
    await fund_store(api, admin_headers, store, "5000.00")
    first, second = [await payout_trader(api, ctx, currency) for _ in range(2)]
    payout = await create_payout(api, store)
    await api.post(f"/api/trader/payouts/{payout['id']}/take", headers=first.headers)
    await wait_payout(api, store, payout["id"], "assigned")
    back = await wait_payout(api, store, payout["id"], "created")
    assert back["pay_by"] is None
    late = await api.post(
        f"/api/trader/payouts/{payout['id']}/paid",
        files={"proof": ("p.png", PNG, "image/png")},
        headers=first.headers,
    )
    # no longer theirs: back in the pool, to be taken again first
    assert (late.status_code, late.json()["error"]["code"]) == (409, "invalid_transition")
    retaken = await api.post(f"/api/trader/payouts/{payout['id']}/take", headers=second.headers)
    assert retaken.status_code == 200, retaken.text
    with Session(ctx.engine) as session:
        events = session.exec(
            select(OrderEvent)
            .where(OrderEvent.order_id == uuid.UUID(payout["id"]))
            .order_by(OrderEvent.seq)  # type: ignore[arg-type]
        ).all()
        assert [e.to_status for e in events] == ["created", "assigned", "created", "assigned"]
    assert balance(ctx, store.store_id, "store", currency)[1] == 102_000
    assert ledger_sum(ctx, currency) == 0
