"""The merchant cabinet, clicked through in headless Chromium: stores and their keys, orders
with filters and CSV, an order's callbacks re-sent, the statement — and nothing of another
merchant's."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect
from sqlmodel import Session, col, select

from api.pages import merchant as merchant_pages
from core.context import ServiceContext
from models.merchants import Merchant, Store
from models.users import Role, User
from tests.factories import create_user, login
from tests.processing.conftest import (
    CallbackReceiver,
    StoreKit,
    make_store,
    make_trader,
    new_currency,
    payin_body,
)
from tests.processing.payout_kit import CARD, fund_store, payout_body, payout_store
from tests.web.test_pages import sign_in

HOSTILE = "<img src=x onerror=\"document.title='owned'\">"
MISSING = "/api/gateway/payins/by-merchant-order/no-such-order"


def owner_email(ctx: ServiceContext, store_id: uuid.UUID) -> str:
    """The merchant user `make_store` created for the store (its password is the suite's)."""
    with Session(ctx.engine) as session:
        query = (
            select(User.email)
            .join(Merchant, col(Merchant.owner_user_id) == User.id)
            .join(Store, col(Store.merchant_id) == Merchant.id)
            .where(Store.id == store_id)
        )
        return session.exec(query).one()


async def completed_payin(
    api: httpx.AsyncClient, ctx: ServiceContext, callback_url: str | None
) -> tuple[StoreKit, dict[str, Any]]:
    """A pay-in made through the gateway and confirmed by its trader through the API."""
    currency = new_currency(ctx)
    store = make_store(ctx, currency, callback_url=callback_url)
    trader = await make_trader(api, ctx, currency)
    body = payin_body(currency)
    order: dict[str, Any] = (
        await api.post("/api/gateway/payins", json=body, headers=store.headers)
    ).json()
    done = await api.post(f"/api/trader/orders/{order['id']}/confirm", headers=trader.headers)
    assert done.json()["status"] == "completed", done.text
    return store, order


async def gateway_deliveries(
    api: httpx.AsyncClient, store: StoreKit, order_id: str, attempts: int
) -> list[dict[str, Any]]:
    """The order's deliveries once the first has `attempts` attempts (and is delivered)."""
    body: list[dict[str, Any]] = []
    for _ in range(150):
        reply = await api.get(f"/api/gateway/payins/{order_id}/callbacks", headers=store.headers)
        body = reply.json()
        if body and body[0]["status"] == "delivered" and len(body[0]["attempts"]) >= attempts:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"deliveries never reached {attempts} attempts: {body}")


async def _csrf(page: Page) -> str:
    value = await page.locator("input[name=csrftoken]").first.get_attribute("value")
    assert value
    return value


async def test_a_merchant_creates_a_store_sees_its_secrets_once_and_sets_its_callback(
    api: httpx.AsyncClient, ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    merchant = create_user(ctx.engine, Role.merchant)
    headers = await login(api, merchant.email)
    currency = new_currency(ctx)
    page = await sign_in(browse, live_url, merchant.email, "/merchant")
    form = page.locator("#new-store")
    await form.locator("input[name=name]").fill(HOSTILE)
    await form.locator("input[name=currency]").fill(currency)
    await form.locator("input[name=callback_url]").fill("http://127.0.0.1:9/first")
    await form.get_by_role("button", name="Create store").click()
    await expect(page.locator(".flash.notice")).to_contain_text("created")
    api_key = await page.locator("#api-key").input_value()
    secret = await page.locator("#signing-secret").input_value()
    assert secret.startswith("whsec_")
    assert secret not in page.url and api_key not in page.url  # never in the address
    assert (await api.get(MISSING, headers={"X-API-Key": api_key})).status_code == 404
    [store] = (await api.get("/api/merchant/stores", headers=headers)).json()
    assert (store["name"], store["currency"]) == (HOSTILE, currency)
    assert store["payin_enabled"] and not store["payout_enabled"]
    assert await page.locator("img[src=x]").count() == 0 and await page.title() != "owned"

    await page.goto(f"{live_url}/merchant")  # shown once: not on the next visit
    html = await page.content()
    assert api_key not in html and secret not in html
    assert await page.locator("#secrets").count() == 0
    row = page.locator(f"li[data-store='{store['id']}']")
    await expect(row.locator(".key-prefix")).to_contain_text(api_key[:12])
    await expect(row).to_contain_text(HOSTILE)

    # The page refuses what the API refuses, in plain words next to the field (no pattern,
    # no validator's wording), keeps the URL typed, and changes nothing.
    plain = {
        "ftp://example.com/hook": "starts with https://",
        "http://metadata.google.internal/hook": "We cannot send callbacks there",
    }
    for bad, words in plain.items():
        refused = await api.patch(
            f"/api/merchant/stores/{store['id']}", json={"callback_url": bad}, headers=headers
        )
        assert refused.status_code == 422, refused.text
        await row.locator("input[name=callback_url]").fill(bad)
        await row.get_by_role("button", name="Save callback URL").click()
        problem = row.locator(".field-problem")
        await expect(problem).to_contain_text(words)
        assert "^" not in await problem.inner_text() and "String" not in await problem.inner_text()
        await expect(row.locator("input[name=callback_url]")).to_have_value(bad)
    [same] = (await api.get("/api/merchant/stores", headers=headers)).json()
    assert same["callback_url"] == "http://127.0.0.1:9/first"

    await row.locator("input[name=callback_url]").fill("http://127.0.0.1:9/second")
    await row.get_by_role("button", name="Save callback URL").click()
    await expect(page.locator(".flash.notice")).to_contain_text("changed")
    await expect(row.locator(".callback-url")).to_have_text("http://127.0.0.1:9/second")
    [changed] = (await api.get("/api/merchant/stores", headers=headers)).json()
    assert changed["callback_url"] == "http://127.0.0.1:9/second"

    await row.get_by_role("button", name="Rotate API key").click()
    await expect(page.locator(".flash.notice")).to_contain_text("New API key")
    new_key = await page.locator("#api-key").input_value()
    assert new_key != api_key and await page.locator("#signing-secret").count() == 0
    assert (await api.get(MISSING, headers={"X-API-Key": api_key})).status_code == 401
    assert (await api.get(MISSING, headers={"X-API-Key": new_key})).status_code == 404
    await page.goto(f"{live_url}/merchant")
    assert new_key not in await page.content()


async def test_a_completed_payin_in_orders_csv_detail_statement_and_callbacks(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    receiver = CallbackReceiver()
    try:
        store, order = await completed_payin(api, ctx, receiver.url)
        [delivery] = await gateway_deliveries(api, store, order["id"], attempts=1)
        email = owner_email(ctx, store.store_id)
        headers = await login(api, email)
        page = await sign_in(browse, live_url, email, "/merchant/orders")

        row = page.locator(f"li[data-order='{order['id']}']")
        await expect(row.locator("[data-status]")).to_have_text("completed")
        await expect(row).to_contain_text(order["amount"])
        await page.select_option("select[name=status]", "failed")
        await page.get_by_role("button", name="Show").click()
        await expect(page).to_have_url(re.compile("status=failed"))
        await expect(row).to_have_count(0)
        await page.select_option("select[name=status]", "completed")
        await page.select_option("select[name=store_id]", str(store.store_id))
        await page.get_by_role("button", name="Show").click()
        await expect(row).to_have_count(1)

        href = await page.locator("#csv").get_attribute("href")
        assert href and "status=completed" in href
        exported = await page.request.get(f"{live_url}{href}")
        assert exported.headers["content-type"].startswith("text/csv")
        text = await exported.text()
        [line] = list(csv.DictReader(io.StringIO(text)))
        assert (line["id"], line["status"], line["amount"]) == (
            order["id"],
            "completed",
            order["amount"],
        )
        same = await api.get(
            "/api/merchant/orders.csv", params={"status": "completed"}, headers=headers
        )
        assert same.text == text  # the API's CSV, byte for byte

        await row.locator("a").click()
        await expect(page).to_have_url(f"{live_url}/merchant/orders/{order['id']}")
        await expect(page.locator("#order [data-status]").first).to_have_text("completed")
        card = page.locator(f"li.delivery[data-event='{delivery['event_id']}']")
        await expect(card).to_contain_text("payin.completed")
        await expect(card.locator("li.attempt")).to_have_count(1)
        await card.get_by_role("button", name="Re-send").click()
        await expect(page.locator(".flash.notice")).to_contain_text("sent again")
        await gateway_deliveries(api, store, order["id"], attempts=2)
        await page.reload()
        await expect(card.locator("li.attempt")).to_have_count(2)
        assert len(receiver.received) == 2

        await page.goto(f"{live_url}/merchant/callbacks?status=failed")
        await expect(page.locator(f"li[data-event='{delivery['event_id']}']")).to_have_count(0)
        await page.select_option("select[name=status]", "delivered")
        await page.get_by_role("button", name="Show").click()
        listed = page.locator(f"li[data-event='{delivery['event_id']}']")
        await expect(listed).to_contain_text("2 attempts")
        await listed.get_by_role("button", name="Re-send").click()
        await expect(page.locator(".flash.notice")).to_contain_text("sent again")
        await expect(page).to_have_url(re.compile(r"/merchant/callbacks\?status=delivered"))
        await gateway_deliveries(api, store, order["id"], attempts=3)
    finally:
        receiver.close()

    statement = (
        await api.get(
            f"/api/merchant/stores/{store.store_id}/statement",
            params={"currency": store.currency},
            headers=headers,
        )
    ).json()
    await page.goto(f"{live_url}/merchant/statement")
    lines = page.locator("#statement li.line")
    await expect(lines).to_have_count(len(statement["lines"]))
    shown = [await lines.nth(i).get_attribute("data-balance") for i in range(await lines.count())]
    assert shown == [line["balance_after"] for line in statement["lines"]]
    [balance] = (await api.get("/api/merchant/balances", headers=headers)).json()
    await page.goto(f"{live_url}/merchant")
    held = page.locator(f"li[data-store='{store.store_id}'] li[data-currency='{store.currency}']")
    await expect(held).to_contain_text(f"{balance['available']} available, {balance['held']} held")


async def test_another_merchant_never_sees_the_order(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    store, order = await completed_payin(api, ctx, None)
    stranger = create_user(ctx.engine, Role.merchant)
    page = await sign_in(browse, live_url, stranger.email, "/merchant/orders")
    await expect(page.locator("#filters")).to_be_visible()
    await expect(page.locator(f"li[data-order='{order['id']}']")).to_have_count(0)
    detail = await page.goto(f"{live_url}/merchant/orders/{order['id']}")
    assert detail is not None and detail.status == 404
    assert order["amount"] not in await page.locator("main").inner_text()
    for path in (
        f"/merchant/orders?store_id={store.store_id}",
        f"/merchant/statement?store_id={store.store_id}&currency={store.currency}",
    ):
        answer = await page.goto(f"{live_url}{path}")
        assert answer is not None and answer.status == 404, path
    token = await _csrf(page)
    for action in (
        f"/merchant/orders/{order['id']}/callbacks/evt_x/resend",
        f"/merchant/stores/{store.store_id}/rotate-key",
        f"/merchant/stores/{store.store_id}/callback",
    ):
        refused = await page.request.post(
            f"{live_url}{action}", form={"csrftoken": token}, max_redirects=0
        )
        assert refused.status == 303 and "error=" in refused.headers["location"], action
        assert "not%20found" in refused.headers["location"], action
    exported = await page.request.get(f"{live_url}/merchant/orders.csv")
    assert order["id"] not in await exported.text()


async def test_orders_come_a_page_at_a_time_with_the_filters_kept(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    live_url: str,
    browse: BrowserContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    made = []
    for amount in ("1500.00", "1600.00", "1700.00"):
        body = payin_body(currency, amount)
        created = await api.post("/api/gateway/payins", json=body, headers=store.headers)
        made.append(created.json()["id"])
    monkeypatch.setattr(merchant_pages, "PAGE_SIZE", 2)
    page = await sign_in(browse, live_url, owner_email(ctx, store.store_id), "/merchant/orders")
    await page.select_option("select[name=store_id]", str(store.store_id))
    await page.get_by_role("button", name="Show").click()
    rows = page.locator("li[data-order]")
    await expect(rows).to_have_count(2)
    first = [str(await rows.nth(i).get_attribute("data-order")) for i in range(2)]
    await page.locator("#next-page").click()
    await expect(page).to_have_url(re.compile(f"store_id={store.store_id}.*cursor="))
    await expect(rows).to_have_count(1)
    last = str(await rows.first.get_attribute("data-order"))
    assert sorted([*first, last]) == sorted(made)  # none skipped or repeated
    assert await page.locator("#next-page").count() == 0
    await page.goto(f"{live_url}/merchant/orders?cursor=not-a-cursor")
    await expect(page.locator(".flash.error")).to_contain_text("cursor")


async def test_a_payout_is_listed_under_payouts_and_its_hold_in_the_balance(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    admin = await login(api, create_user(ctx.engine, Role.admin).email)
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin, store, "5000.00")
    created = await api.post(
        "/api/gateway/payouts", json=payout_body(currency), headers=store.headers
    )
    payout = created.json()
    assert created.status_code == 201, payout
    email = owner_email(ctx, store.store_id)
    page = await sign_in(browse, live_url, email, "/merchant/orders")
    await expect(page.locator(f"li[data-order='{payout['id']}']")).to_have_count(0)  # pay-ins
    await page.select_option("select[name=kind]", "payout")
    await page.get_by_role("button", name="Show").click()
    row = page.locator(f"li[data-order='{payout['id']}']")
    await expect(row.locator("[data-status]")).to_have_text(payout["status"])
    await row.locator("a").click()
    await expect(page.locator("#order")).to_contain_text(payout["fee"])
    shown = (await page.locator("#order").inner_text()).replace(" ", "")
    assert payout["recipient"]["number"].replace(" ", "") in shown
    assert CARD.replace(" ", "") not in shown  # masked, as the gateway shows it
    await expect(page.locator("#timeline")).to_contain_text("to be taken by")

    [balance] = (await api.get("/api/merchant/balances", headers=await login(api, email))).json()
    assert balance["held"] != "0.00"
    await page.goto(f"{live_url}/merchant")
    held = page.locator(f"li[data-store='{store.store_id}'] li[data-currency='{currency}']")
    await expect(held).to_contain_text(f"{balance['available']} available, {balance['held']} held")
    await page.goto(f"{live_url}/merchant/statement")
    await expect(page.locator("#statement li.line").first).to_contain_text("5000.00")


async def test_no_merchant_page_answers_5xx_for_any_role(
    ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    paths = [
        "/merchant",
        "/merchant/orders",
        "/merchant/orders?kind=payout&status=paid&created_from=2024-01-01&created_to=2030-01-01",
        "/merchant/orders?status=bogus&created_from=yesterday&amount_min_minor=-1",
        "/merchant/orders?cursor=not-a-cursor",
        f"/merchant/orders?store_id={uuid.uuid4()}",
        "/merchant/orders.csv",
        "/merchant/orders.csv?kind=nope",
        f"/merchant/orders/{uuid.uuid4()}",
        "/merchant/orders/not-a-uuid",
        "/merchant/statement",
        "/merchant/statement?store_id=nope&currency=x&cursor=bad",
        "/merchant/callbacks",
        "/merchant/callbacks?status=failed",
        "/merchant/callbacks?status=bogus",
    ]
    for role in (Role.merchant, Role.trader, Role.admin, Role.connect_user):
        user = create_user(ctx.engine, role)
        page = await sign_in(browse, live_url, user.email, "/")
        for path in paths:
            answer = await page.request.get(f"{live_url}{path}", max_redirects=0)
            assert answer.status < 500, (role, path, answer.status)
            if role != Role.merchant:
                assert answer.status == 403, (role, path, answer.status)
        await browse.clear_cookies()
    anonymous = await browse.new_page()
    await anonymous.goto(f"{live_url}/merchant/orders")
    assert "/login" in anonymous.url
