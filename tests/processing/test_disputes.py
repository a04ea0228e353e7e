"""Disputes on both kinds: opened by the merchant (with evidence), support or a timeout;
escalated past the SLA, never decided by it; resolved by an admin with the actual amount
(correction postings, Σ = 0, visible in the statement) or cancelled (hold released)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlmodel import Session, select

from core.context import ServiceContext
from models.audit import AuditEntry
from models.ledger import Entry, Hold, HoldStatus, Posting
from models.orders import Order, OrderEvent, Receipt
from models.users import Role
from processing.orders import disputes
from tests.factories import create_user, login
from tests.processing.conftest import (
    CallbackReceiver,
    make_store,
    make_trader,
    new_currency,
    payin_body,
    verify_signature,
)
from tests.processing.payout_kit import (
    PNG,
    balance,
    create_payout,
    fund_store,
    ledger_sum,
    merchant_headers,
    payout_store,
    payout_trader,
    wait_escalated,
)


async def _paid_payout(
    api: httpx.AsyncClient, ctx: ServiceContext, admin: dict[str, str], **store_settings: object
) -> tuple:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, payout_review_seconds=600, **store_settings)
    await fund_store(api, admin, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)
    payout = await create_payout(api, store)
    await api.post(f"/api/trader/payouts/{payout['id']}/take", headers=trader.headers)
    paid = await api.post(
        f"/api/trader/payouts/{payout['id']}/paid",
        files={"proof": ("p.png", PNG, "image/png")},
        headers=trader.headers,
    )
    assert paid.json()["status"] == "paid", paid.text
    assert paid.json()["review_until"] is not None
    return currency, store, trader, payout


async def test_payout_dispute_resolved_with_actual_amount(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    receiver: CallbackReceiver,
) -> None:
    currency, store, trader, payout = await _paid_payout(
        api, ctx, admin_headers, callback_url=receiver.url
    )
    url = f"/api/gateway/payouts/{payout['id']}/dispute"
    disputed = await api.post(
        url,
        data={"reason": "the customer received 600.00 only"},
        files={"evidence": ("statement.pdf", b"%PDF-1.4\n" + bytes(32), "application/pdf")},
        headers=store.headers,
    )
    assert disputed.status_code == 200, disputed.text
    body = disputed.json()
    assert body["status"] == "disputed"
    assert body["dispute"]["opened_by"] == "merchant"
    assert body["dispute"]["has_evidence"] is True
    # The same merchant disputing again (a retry after a timeout) gets the order, not a 409;
    # nothing is opened twice.
    again = await api.post(url, data={"reason": "once more"}, headers=store.headers)
    assert (again.status_code, again.json()["status"]) == (200, "disputed"), again.text
    timeline = await api.get(f"/api/admin/orders/{payout['id']}/timeline", headers=admin_headers)
    assert [e["to_status"] for e in timeline.json()].count("disputed") == 1

    queue = (await api.get("/api/admin/disputes", headers=admin_headers)).json()
    item = next(i for i in queue if i["order_id"] == payout["id"])
    assert (item["kind"], item["opened_by"], item["amount"]) == ("payout", "merchant", "1000.00")

    too_much = await api.post(
        f"/api/admin/orders/{payout['id']}/resolve",
        json={"outcome": "completed", "actual_amount": "1000.01", "reason": "typo"},
        headers=admin_headers,
    )
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (
        422,
        "actual_amount_out_of_range",
    )
    resolved = await api.post(
        f"/api/admin/orders/{payout['id']}/resolve",
        json={"outcome": "completed", "actual_amount": "600.00", "reason": "bank statement"},
        headers=admin_headers,
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["actual_amount"]) == ("completed", "600.00")

    # The settle posting at the order's amount stays; a correction posting moves the
    # difference: store pays 600 + 12 fee, trader gets 600 + 6 reward, platform 6.
    assert balance(ctx, store.store_id, "store", currency) == (500_000 - 61_200, 0)
    assert balance(ctx, trader.trader_id, "trader", currency) == (60_600, 0)
    assert balance(ctx, None, "platform_profit", currency) == (600, 0)
    assert ledger_sum(ctx, currency) == 0
    order_id = uuid.UUID(payout["id"])
    with Session(ctx.engine) as session:
        postings = session.exec(
            select(Posting).where(Posting.order_id == order_id).order_by(Posting.created_at)  # type: ignore[arg-type]
        ).all()
        assert [p.kind for p in postings] == ["payout_settle", "correction"]
        for posting in postings:
            entries = session.exec(select(Entry).where(Entry.posting_id == posting.id)).all()
            assert sum(e.amount_minor for e in entries) == 0
        evidence = session.exec(
            select(Receipt).where(
                Receipt.order_id == order_id, Receipt.uploaded_by_type == "merchant"
            )
        ).one()
        assert evidence.content_type == "application/pdf"
        audited = session.exec(select(AuditEntry).where(AuditEntry.target_id == payout["id"])).all()
        assert [a.after["status"] for a in audited] == ["completed"]
        assert audited[0].after["actual_amount"] == "600.00"

    postings = (
        await api.get(f"/api/admin/orders/{payout['id']}/postings", headers=admin_headers)
    ).json()
    assert [p["kind"] for p in postings] == ["payout_settle", "correction"]
    statement = await api.get(
        f"/api/merchant/stores/{store.store_id}/statement?currency={currency}",
        headers=await merchant_headers(api, ctx, store),
    )
    assert statement.status_code == 200, statement.text
    lines = statement.json()["lines"]
    assert [line["posting_kind"] for line in lines] == [
        "store_deposit",
        "payout_settle",
        "correction",
    ]
    assert [line["amount"] for line in lines][1:] == ["-1020.00", "408.00"]
    assert lines[-1]["balance_after"] == "4388.00"

    await asyncio.to_thread(receiver.event.wait, 10)
    for _ in range(50):
        types = [verify_signature(store.secret, r)["type"] for r in receiver.received]
        if "payout.completed" in types:
            break
        await asyncio.sleep(0.1)
    assert "payout.disputed" in types and "payout.completed" in types


async def test_payout_dispute_cancelled_returns_the_hold(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency, store, trader, payout = await _paid_payout(api, ctx, admin_headers)
    support = await login(api, create_user(ctx.engine, Role.support).email)
    opened = await api.post(
        f"/api/admin/orders/{payout['id']}/dispute",
        json={"reason": "recipient bank says nothing arrived"},
        headers=support,
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["dispute"]["opened_by"] == "support"
    # support handles a dispute up to resolving it (`disputes.handle`)
    cancelled = await api.post(
        f"/api/admin/orders/{payout['id']}/resolve",
        json={"outcome": "cancelled", "reason": "not paid"},
        headers=support,
    )
    assert cancelled.json()["status"] == "cancelled", cancelled.text
    assert balance(ctx, store.store_id, "store", currency) == (500_000, 0)
    assert balance(ctx, trader.trader_id, "trader", currency) == (0, 0)


async def test_payin_dispute_escalates_and_resolves_with_actual_amount(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    admin_headers: dict[str, str],
    no_platform_overrides: None,
) -> None:
    await api.put(
        "/api/admin/settings/dispute_sla_seconds", json={"value": 1}, headers=admin_headers
    )
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency, balance_minor=500_000)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store.headers)
    disputed = await api.post(
        f"/api/gateway/payins/{order['id']}/dispute",
        data={"reason": "customer paid 1000.00, trader does not confirm"},
        headers=store.headers,
    )
    assert disputed.status_code == 200, disputed.text
    assert disputed.json()["status"] == "disputed"
    # the trader still sees it among their open orders
    mine = (await api.get("/api/trader/orders", headers=trader.headers)).json()
    assert [o["id"] for o in mine] == [order["id"]]

    await wait_escalated(api, admin_headers, order["id"])
    # The admin overview's counts (counted in the database) agree with the dispute queue.
    with Session(ctx.engine) as session:
        queue, on_review = disputes.queue(session), disputes.reviews(session)
        counts = disputes.open_counts(session)
    assert counts == {
        "disputes": len(queue),
        "escalated": sum(1 for item in queue if item.escalated_at is not None),
        "reviews": len(on_review),
    }
    assert counts["escalated"] >= 1
    timeline = (
        await api.get(f"/api/admin/orders/{order['id']}/timeline", headers=admin_headers)
    ).json()
    assert [(e["to_status"], e["reason"]) for e in timeline][-2:] == [
        ("disputed", "customer paid 1000.00, trader does not confirm"),
        ("disputed", "dispute_sla_escalated"),
    ]
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))

    resolved = await api.post(
        f"/api/admin/orders/{order['id']}/resolve",
        json={"outcome": "completed", "actual_amount": "1000.00", "reason": "bank statement"},
        headers=admin_headers,
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "completed"
    # pay-in of 1500.00 settled at 1000.00: fee 3 % of 1000, reward 1 % of 1000
    assert balance(ctx, store.store_id, "store", currency) == (97_000, 0)
    assert balance(ctx, trader.trader_id, "trader", currency) == (500_000 - 100_000 + 1_000, 0)
    assert ledger_sum(ctx, currency) == 0
    with Session(ctx.engine) as session:
        kinds = session.exec(
            select(Posting.kind).where(Posting.order_id == uuid.UUID(order["id"]))
        ).all()
        assert sorted(kinds) == ["correction", "payin_settle"]


async def test_dispute_refused_where_it_cannot_be_opened(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "5000.00")
    payout = await create_payout(api, store)
    # in the pool (no trader yet): the merchant cancels instead
    response = await api.post(
        f"/api/gateway/payouts/{payout['id']}/dispute",
        data={"reason": "too early"},
        files={"evidence": ("e.png", PNG, "image/png")},
        headers=store.headers,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "invalid_transition")
    # nothing stored for a refused dispute
    with Session(ctx.engine) as session:
        assert (
            session.exec(select(Receipt).where(Receipt.order_id == uuid.UUID(payout["id"]))).first()
            is None
        )
        order = session.get(Order, uuid.UUID(payout["id"]))
        assert order is not None and order.disputed_at is None
    other = payout_store(ctx, currency)
    stranger = await api.post(
        f"/api/gateway/payouts/{payout['id']}/dispute",
        data={"reason": "not mine"},
        headers=other.headers,
    )
    assert stranger.status_code == 404
    not_disputed = await api.post(
        f"/api/admin/orders/{payout['id']}/resolve",
        json={"outcome": "cancelled", "reason": "nothing to resolve"},
        headers=admin_headers,
    )
    assert (not_disputed.status_code, not_disputed.json()["error"]["code"]) == (
        409,
        "invalid_transition",
    )
    with Session(ctx.engine) as session:
        hold = session.exec(select(Hold).where(Hold.order_id == uuid.UUID(payout["id"]))).one()
        assert hold.status == HoldStatus.pending
        assert (
            session.exec(
                select(OrderEvent).where(
                    OrderEvent.order_id == uuid.UUID(payout["id"]),
                    OrderEvent.to_status == "disputed",
                )
            ).first()
            is None
        )
