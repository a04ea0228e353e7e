"""The events people are told about, written by the domain where they happen: a dispute on a
trader's pay-in, its deadline near, a withdrawal's status and the staff approval it waits
for (each once, whatever the retries); and `make run`'s demo chats (seeded once)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, col, select

from contracts.notifications import NotificationKind
from core.context import ServiceContext
from core.db import build_engine, session_scope
from core.migrate import upgrade
from core.security import SecretBox
from core.settings import Settings
from launcher.seed import seed
from launcher.seed_notifications import DEMO_CHATS, notification_lines
from models.notifications import Notification, NotificationSettings
from models.users import Role, User
from processing.notifications.events import deadlines_near
from processing.notifications.outbox import notify
from processing.notifications.texts import TEMPLATES
from tests.factories import actor
from tests.notifications.conftest import user_of
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.processing.payout_kit import (
    create_payout,
    fund_store,
    payout_store,
    payout_trader,
    wait_payout,
)


def payloads(ctx: ServiceContext, user_id: uuid.UUID, kind: str) -> list[dict[str, Any]]:
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(Notification.payload)
            .where(Notification.user_id == user_id, Notification.kind == kind)
            .order_by(col(Notification.created_at))
        ).all()
    return [dict(row) for row in rows]


async def test_a_dispute_and_a_deadline_near_reach_the_trader_once(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency)
    user_id = user_of(ctx, trader.trader_id)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    paid = await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store.headers)
    assert paid.json()["status"] == "payment_claimed"
    for _ in range(2):  # a second sweep finds the reminder written
        with session_scope(ctx.engine) as session:
            deadlines_near(session, 24 * 3600)
    [reminder] = payloads(ctx, user_id, "deadline_near")
    assert reminder["order_id"] == order["id"] and reminder["deadline"]

    disputed = await api.post(
        f"/api/gateway/payins/{order['id']}/dispute",
        data={"reason": "paid, not confirmed"},
        headers=store.headers,
    )
    assert disputed.status_code == 200, disputed.text
    [dispute] = payloads(ctx, user_id, "dispute_opened")
    assert dispute == {
        "order_id": order["id"],
        "order_kind": "payin",
        "amount": order["amount"],
        "currency": currency,
        "opened_by": "merchant",
    }


async def test_a_withdrawal_tells_staff_and_then_its_owner(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    admin = await actor(api, ctx.engine, Role.admin)
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency)
    body = {"amount": "100.00", "currency": currency,
            "destination": {"kind": "card", "value": "4111 1111 1111 1111"}}  # fmt: skip
    asked = await api.post("/api/trader/withdrawals", json=body, headers=trader.headers)
    assert asked.status_code == 201, asked.text
    withdrawal_id = asked.json()["id"]
    [waiting] = payloads(ctx, admin.user_id, "approval_waiting")
    assert waiting["request_id"] == withdrawal_id and waiting["request_kind"] == "withdrawal"
    rejected = await api.post(
        f"/api/admin/withdrawals/{withdrawal_id}/reject", json={}, headers=admin.headers
    )
    assert rejected.status_code == 200, rejected.text
    [told] = payloads(ctx, user_of(ctx, trader.trader_id), "withdrawal_status")
    assert (told["status"], told["amount"]) == ("rejected", "100.00")
    # The card number only masked, as everywhere else.
    assert "1111 1111 1111" not in str(told) and told["destination"].endswith("1111")


def test_make_run_links_the_demo_traders_chats_once(tmp_path: Path) -> None:
    settings = Settings(environment="development", data_dir=tmp_path)
    upgrade(settings.effective_database_url)
    engine = build_engine(settings)
    credentials, box = tmp_path / "demo-credentials.json", SecretBox(settings.fernet_keys)
    seed(engine, box, credentials, settings)
    with Session(engine) as session:
        trader1 = session.exec(select(User.id).where(User.email == "trader1@jivapay.dev")).one()
        row = session.get(NotificationSettings, trader1)
        assert row is not None and row.telegram_chat_id == DEMO_CHATS["trader1"]
        row.telegram_chat_id = 777  # the demo user linked their own chat
        session.add(row)
        session.commit()
    seed(engine, box, credentials, settings)
    with Session(engine) as session:
        kept = session.get(NotificationSettings, trader1)
        assert kept is not None and kept.telegram_chat_id == 777
    engine.dispose()
    banner = "\n".join(notification_lines(settings))
    assert "http://127.0.0.1:8105/stand-in/messages" in banner


async def test_a_payout_in_the_pool_and_a_low_balance_reach_the_right_traders(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, no_platform_overrides: None
) -> None:
    admin = await actor(api, ctx.engine, Role.admin)
    currency, elsewhere = new_currency(ctx), new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin.headers, store, "5000.00")
    taker = await payout_trader(api, ctx, currency)
    other = await payout_trader(api, ctx, elsewhere)  # works in another currency
    order = await create_payout(api, store, "1000.00")
    await wait_payout(api, store, order["id"], "created")
    [offer] = payloads(ctx, user_of(ctx, taker.trader_id), "payout_available")
    assert (offer["order_id"], offer["amount"]) == (order["id"], "1000.00")
    assert "4111" not in str(offer)  # nothing of the recipient's card
    assert payloads(ctx, user_of(ctx, other.trader_id), "payout_available") == []

    # A pay-in's hold leaves 1500.00 of 3000.00 to work with, below the 2000.00 minimum.
    low = await make_trader(api, ctx, elsewhere, balance_minor=300_000)
    minimum = await api.put(
        "/api/admin/settings/min_working_balance",
        json={"value": {elsewhere: 200_000}},
        headers=admin.headers,
    )
    assert minimum.status_code == 200, minimum.text
    taken = await api.post(
        "/api/gateway/payins",
        json=payin_body(elsewhere, "1500.00"),
        headers=make_store(ctx, elsewhere).headers,
    )
    assert taken.status_code == 201, taken.text
    [told] = payloads(ctx, user_of(ctx, low.trader_id), "balance_low")
    assert told == {"currency": elsewhere, "working_balance": "1500.00", "minimum": "2000.00"}


async def test_the_web_list_pages_and_marks_only_my_own(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    mine = await actor(api, ctx.engine, Role.trader)
    theirs = await actor(api, ctx.engine, Role.trader)
    with session_scope(ctx.engine) as session:
        for n in range(3):
            payload = {"withdrawal_id": f"w{n}", "status": "approved", "amount": "1.00"}
            notify(
                session,
                mine.user_id,
                NotificationKind.withdrawal_status,
                payload,
                f"{mine.user_id}:{n}",
            )
    path = "/api/me/notifications"
    first = (await api.get(path, params={"limit": 2}, headers=mine.headers)).json()
    assert [i["payload"]["withdrawal_id"] for i in first["items"]] == ["w2", "w1"]
    assert first["unread"] == 3 and first["next_before"]
    params = {"limit": 2, "before": first["next_before"]}
    rest = (await api.get(path, params=params, headers=mine.headers)).json()
    assert [i["payload"]["withdrawal_id"] for i in rest["items"]] == ["w0"]
    assert rest["next_before"] is None
    ids = [i["id"] for i in first["items"]]
    stranger = await api.post(f"{path}/read", json={"ids": ids}, headers=theirs.headers)
    assert stranger.json() == {"marked": 0}
    assert (await api.get(path, headers=theirs.headers)).json()["items"] == []
    marked = await api.post(f"{path}/read", json={"ids": ids[:1]}, headers=mine.headers)
    assert marked.json() == {"marked": 1}
    assert (await api.get(path, headers=mine.headers)).json()["unread"] == 2


async def test_every_event_has_its_words_and_a_page_cursor_is_a_moment(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    assert set(TEMPLATES) == {kind.value for kind in NotificationKind}
    someone = await actor(api, ctx.engine, Role.trader)
    path = "/api/me/notifications"
    for before, status in [("0.5", 422), ("0001-01-01T00:00:00+05:00", 200)]:
        answer = await api.get(path, params={"before": before}, headers=someone.headers)
        assert answer.status_code == status, answer.text


async def test_a_payout_back_in_the_pool_is_offered_again(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, no_platform_overrides: None
) -> None:
    admin = await actor(api, ctx.engine, Role.admin)
    setting = await api.put(
        "/api/admin/settings/payout_unpaid_action", json={"value": "pool"}, headers=admin.headers
    )
    assert setting.status_code == 200, setting.text
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, payout_pay_seconds=2)
    await fund_store(api, admin.headers, store, "5000.00")
    first = await payout_trader(api, ctx, currency)
    second = await payout_trader(api, ctx, currency)
    order = await create_payout(api, store)
    await api.post(f"/api/trader/payouts/{order['id']}/take", headers=first.headers)
    await wait_payout(api, store, order["id"], "assigned")
    await wait_payout(api, store, order["id"], "created")  # not paid in time
    offers = payloads(ctx, user_of(ctx, second.trader_id), "payout_available")
    assert [offer["order_id"] for offer in offers] == [order["id"], order["id"]]
    assert offers[0]["expires_at"] != offers[1]["expires_at"]
