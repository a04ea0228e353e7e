"""Fraud rules on real services: velocity (customer, IP, recipient, requisite), amount
thresholds sending orders to review, block lists by fingerprint; decisions in the match
report, admin edits audited. Rules here are scoped to the test's store (block lists are
global, so each test blocks values of its own)."""

from __future__ import annotations

import asyncio
import secrets
import uuid

import httpx
from sqlmodel import Session, select

from core.context import ServiceContext
from models.audit import AuditEntry
from models.fraud import BlockListEntry
from models.orders import Order
from tests.processing.conftest import (
    CallbackReceiver,
    make_store,
    make_trader,
    new_currency,
    payin_body,
    verify_signature,
)
from tests.processing.payout_kit import (
    balance,
    create_rule,
    fund_store,
    payout_body,
    payout_store,
    payout_trader,
)


def luhn_card() -> str:
    digits = [4] + [secrets.randbelow(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += (d * 2 - 9 if d > 4 else d * 2) if i % 2 == 0 else d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


async def test_velocity_per_customer_denies_the_next_payin(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    receiver: CallbackReceiver,
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, callback_url=receiver.url)
    await make_trader(api, ctx, currency, requisites=3)
    rule = await create_rule(
        api,
        admin_headers,
        name="3 pay-ins per customer per hour",
        kind="velocity",
        action="deny",
        direction="payin",
        store_id=str(store.store_id),
        velocity_key="customer_id",
        velocity_limit=3,
        window_seconds=3600,
    )
    customer = f"cust-{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        ok = await api.post(
            "/api/gateway/payins",
            json=payin_body(currency, customer_id=customer),
            headers=store.headers,
        )
        assert ok.status_code == 201, ok.text
    denied = await api.post(
        "/api/gateway/payins",
        json=payin_body(currency, customer_id=customer),
        headers=store.headers,
    )
    assert denied.status_code == 422, denied.text
    error = denied.json()["error"]
    assert error["code"] == "fraud_denied"
    order_id = error["details"]["order_id"]
    # another customer is not affected
    other = await api.post(
        "/api/gateway/payins",
        json=payin_body(currency, customer_id="someone-else"),
        headers=store.headers,
    )
    assert other.status_code == 201

    report = (
        await api.get(f"/api/admin/orders/{order_id}/match-report", headers=admin_headers)
    ).json()
    assert report["status"] == "failed" and report["failure_reason"] == "fraud_denied"
    assert report["fraud_decision"] == "deny"
    assert report["fraud_hits"] == [
        {"source": "rule", "id": rule["id"], "name": rule["name"], "action": "deny"}
    ]
    for _ in range(100):
        events = [verify_signature(store.secret, r) for r in receiver.received]
        if any(e["type"] == "payin.failed" for e in events):
            break
        await asyncio.sleep(0.1)
    failed = next(e for e in events if e["type"] == "payin.failed")
    assert failed["data"]["order_id"] == order_id
    assert failed["data"]["failure_reason"] == "fraud_denied"


async def test_velocity_per_ip_and_requisite(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, requisites=1)
    await create_rule(
        api,
        admin_headers,
        name="1 per requisite per hour",
        kind="velocity",
        action="deny",
        store_id=str(store.store_id),
        velocity_key="requisite",
        velocity_limit=1,
        window_seconds=3600,
    )
    await create_rule(
        api,
        admin_headers,
        name="2 per address",
        kind="velocity",
        action="deny",
        store_id=str(store.store_id),
        velocity_key="ip",
        velocity_limit=2,
        window_seconds=3600,
    )
    first = await api.post(
        "/api/gateway/payins",
        json=payin_body(currency, customer_ip="203.0.113.7"),
        headers=store.headers,
    )
    assert first.status_code == 201, first.text
    # the only requisite is over its velocity: matching skips it
    second = await api.post(
        "/api/gateway/payins",
        json=payin_body(currency, customer_ip="203.0.113.7"),
        headers=store.headers,
    )
    assert second.json()["error"]["code"] == "no_requisite"
    report = (
        await api.get(
            f"/api/admin/orders/{second.json()['error']['details']['order_id']}/match-report",
            headers=admin_headers,
        )
    ).json()
    assert report["rejections"] == [
        {"requisite_id": str(trader.requisite_ids[0]), "reason": "fraud_velocity"}
    ]
    assert report["fraud_decision"] == "allow"
    third = await api.post(
        "/api/gateway/payins",
        json=payin_body(currency, customer_ip="203.0.113.7"),
        headers=store.headers,
    )
    assert third.json()["error"]["code"] == "fraud_denied"
    bad_ip = await api.post(
        "/api/gateway/payins",
        json=payin_body(currency, customer_ip="not-an-ip"),
        headers=store.headers,
    )
    assert bad_ip.status_code == 422


async def test_amount_rule_sends_to_review_admin_decides(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency, requisites=2)
    await create_rule(
        api,
        admin_headers,
        name="large pay-ins",
        kind="amount",
        action="review",
        store_id=str(store.store_id),
        amount_over_minor=200_000,
    )
    small = await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    assert small.json()["status"] == "awaiting_payment"
    big = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "5000.00"), headers=store.headers
    )
    assert big.status_code == 201, big.text
    assert (big.json()["status"], big.json()["requisite"]) == ("on_review", None)
    other = await api.post(
        "/api/gateway/payins", json=payin_body(currency, "6000.00"), headers=store.headers
    )
    assert other.json()["status"] == "on_review"

    queue = (await api.get("/api/admin/reviews", headers=admin_headers)).json()
    assert {big.json()["id"], other.json()["id"]} <= {r["order_id"] for r in queue}
    approved = await api.post(
        f"/api/admin/orders/{big.json()['id']}/review",
        json={"decision": "approve", "reason": "known customer"},
        headers=admin_headers,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "awaiting_payment"
    assert approved.json()["requisite"] is not None
    rejected = await api.post(
        f"/api/admin/orders/{other.json()['id']}/review",
        json={"decision": "reject"},
        headers=admin_headers,
    )
    assert rejected.json()["status"] == "failed"
    assert rejected.json()["failure_reason"] == "fraud_rejected"
    twice = await api.post(
        f"/api/admin/orders/{other.json()['id']}/review",
        json={"decision": "approve"},
        headers=admin_headers,
    )
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "invalid_transition")
    timeline = (
        await api.get(f"/api/admin/orders/{big.json()['id']}/timeline", headers=admin_headers)
    ).json()
    assert [e["to_status"] for e in timeline] == ["on_review", "created", "awaiting_payment"]
    assert timeline[1]["actor_type"] == "admin"


async def test_block_list_denies_a_payout_by_fingerprint(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "5000.00")
    card = luhn_card()
    spaced = " ".join(card[i : i + 4] for i in range(0, 16, 4))
    blocked = await api.post(
        "/api/admin/fraud/block-list",
        json={"kind": "card", "value": spaced, "reason": "chargeback ring"},
        headers=admin_headers,
    )
    assert blocked.status_code == 201, blocked.text
    assert blocked.json()["label"] == "****" + card[-4:]
    duplicate = await api.post(
        "/api/admin/fraud/block-list", json={"kind": "card", "value": card}, headers=admin_headers
    )
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "already_blocked")
    listing = await api.get("/api/admin/fraud/block-list", headers=admin_headers)
    assert card not in listing.text and card[:6] not in listing.text

    body = {**payout_body(currency), "recipient": {"card_number": card}}
    denied = await api.post("/api/gateway/payouts", json=body, headers=store.headers)
    assert (denied.status_code, denied.json()["error"]["code"]) == (422, "fraud_denied")
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 0)
    with Session(ctx.engine) as session:
        entry = session.get(BlockListEntry, uuid.UUID(blocked.json()["id"]))
        assert entry is not None and card not in entry.fingerprint + entry.label
        order = session.get(Order, uuid.UUID(denied.json()["error"]["details"]["order_id"]))
        assert order is not None
        assert card not in (order.recipient_encrypted or "") + (order.request_hash or "")
        audited = session.exec(
            select(AuditEntry).where(AuditEntry.target_type == "BlockListEntry")
        ).all()
        assert audited and all(card not in str(a.after) for a in audited)
    # off the list, the same card goes through
    removed = await api.delete(
        f"/api/admin/fraud/block-list/{blocked.json()['id']}", headers=admin_headers
    )
    assert removed.status_code == 204
    body["merchant_order_id"] = uuid.uuid4().hex
    allowed = await api.post("/api/gateway/payouts", json=body, headers=store.headers)
    assert allowed.status_code == 201, allowed.text


async def test_payout_recipient_velocity_review_then_pool(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)
    await create_rule(
        api,
        admin_headers,
        name="1 pay-out per recipient per day",
        kind="velocity",
        action="review",
        direction="payout",
        store_id=str(store.store_id),
        velocity_key="recipient",
        velocity_limit=1,
        window_seconds=86_400,
    )
    card = luhn_card()
    body = {**payout_body(currency), "recipient": {"card_number": card}}
    first = await api.post("/api/gateway/payouts", json=body, headers=store.headers)
    assert first.json()["status"] == "created"
    second = await api.post(
        "/api/gateway/payouts", json={**body, "merchant_order_id": "second"}, headers=store.headers
    )
    assert second.json()["status"] == "on_review"
    # nothing held while on review; not offered to traders
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 102_000)
    offers = (await api.get("/api/trader/payouts/available", headers=trader.headers)).json()
    assert second.json()["id"] not in {o["id"] for o in offers}
    approved = await api.post(
        f"/api/admin/orders/{second.json()['id']}/review",
        json={"decision": "approve"},
        headers=admin_headers,
    )
    assert approved.json()["status"] == "created", approved.text
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 204_000)
    offers = (await api.get("/api/trader/payouts/available", headers=trader.headers)).json()
    assert second.json()["id"] in {o["id"] for o in offers}
