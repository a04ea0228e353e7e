"""The trader desk's live parts, as a person uses them: what they type survives the desk's
refreshes, and a session that ended mid-work sends them to sign in and back, never the
sign-in page inside a card or a bare 403."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, ViewportSize, expect

from api.pages.session import COOKIE
from core.context import ServiceContext
from core.security import create_access_token
from models.users import Role
from tests.connect.helpers import wait_until
from tests.factories import PASSWORD, create_user, page_login
from tests.processing.conftest import (
    StoreKit,
    make_store,
    make_trader,
    new_currency,
    payin_body,
)
from tests.web.test_pages import sign_in

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
DESK = "/trader?view=mine"


async def next_refresh(page: Page) -> None:
    """Wait for the open orders' next refresh: the polled block is swapped for a new one."""
    await page.evaluate("document.getElementById('orders').dataset.old = 'yes'")
    await page.locator("#orders:not([data-old])").wait_for(state="attached")


@dataclass
class Desk:
    """A trader with an open pay-in, signed in on the desk (at `/trader?view=mine`)."""

    store: StoreKit
    order: dict[str, Any]
    me: dict[str, Any]
    page: Page


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
async def desk(
    request: pytest.FixtureRequest,
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    live_url: str,
    browse: BrowserContext,
) -> Desk:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency)
    body = payin_body(currency)
    order = (await api.post("/api/gateway/payins", json=body, headers=store.headers)).json()
    me = (await api.get("/api/auth/me", headers=trader.headers)).json()
    page = await sign_in(browse, live_url, me["email"], DESK)
    await page.set_viewport_size(request.param)
    return Desk(store, order, me, page)


async def order_status(api: httpx.AsyncClient, headers: dict[str, str], order_id: str) -> str:
    shown = await api.get(f"/api/gateway/payins/{order_id}", headers=headers)
    return str(shown.json()["status"])


async def test_a_cancel_reason_being_typed_survives_three_refreshes(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    store, order, page = desk.store, desk.order, desk.page
    currency = order["currency"]

    reason = page.locator(f"#reason-{order['id']}")
    await reason.click()
    words = ["Customer ", "sent a ", "different amount"]
    await page.keyboard.type(words[0])
    await next_refresh(page)
    # The rest of the block does refresh: a new order shows up while the reason is typed.
    second = payin_body(currency, amount="1700.00")
    other = (await api.post("/api/gateway/payins", json=second, headers=store.headers)).json()
    await expect(page.locator(f"li[data-order='{other['id']}']")).to_be_visible()
    for part in words[1:]:
        # Typed without clicking again: the cursor stayed in the field through the refresh.
        await page.keyboard.type(part)
        await next_refresh(page)
    await expect(reason).to_have_value("".join(words))
    await expect(reason).to_be_focused()

    await page.keyboard.press("Enter")
    await expect(page.locator(".flash.notice")).to_be_visible()

    async def cancelled() -> bool:  # the workflow applies the cancel: polled, as a client does
        return await order_status(api, store.headers, order["id"]) == "cancelled"

    await wait_until(cancelled, 10, "the cancel applied")
    assert await order_status(api, store.headers, other["id"]) == "awaiting_payment"


async def test_an_expired_session_on_the_desk_signs_in_and_comes_back(
    ctx: ServiceContext, live_url: str, browse: BrowserContext, desk: Desk
) -> None:
    order, me, page = desk.order, desk.me, desk.page
    await expect(page.locator(f"li[data-order='{order['id']}']")).to_be_visible()

    # The session runs out while the desk is open: its cookie is a token past its expiry.
    lapsed = ctx.settings.model_copy(update={"jwt_ttl_seconds": -60})
    expired = create_access_token(lapsed, uuid.UUID(me["id"]), Role.trader.value)
    await browse.clear_cookies(name=COOKIE)
    await browse.add_cookies(
        [{"name": COOKIE, "value": expired, "url": live_url, "httpOnly": True, "secure": True}]
    )
    # The next refresh sends the whole page to sign in, with the desk to come back to.
    await expect(page).to_have_url(f"{live_url}/login?next={quote(DESK, safe='')}")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await page.locator("#orders").count() == 0
    await page.fill("input[name=email]", me["email"])
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{live_url}{DESK}")
    await expect(page.locator(f"li[data-order='{order['id']}']")).to_be_visible()


async def test_a_stale_form_token_is_a_page_or_a_redirect_to_sign_in_never_plain_text(
    api: httpx.AsyncClient, ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    trader = await make_trader(api, ctx, new_currency(ctx))
    me = (await api.get("/api/auth/me", headers=trader.headers)).json()
    page = await sign_in(browse, live_url, me["email"], "/trader")
    switch = page.get_by_role("button", name=re.compile("Go (online|offline)"))
    await browse.clear_cookies(name="csrftoken")  # the browser lost it (a restart, a cleanup)
    await switch.click()
    await expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    await page.goto(f"{live_url}/trader")  # a reload of the desk: the form works again
    await switch.click()
    await expect(page.locator(".flash.notice")).to_contain_text("You are")

    # Inside a live fragment (htmx): to sign in and back to the page it was on.
    sent = await api.post(
        "/trader/status",
        data={"online": "true", "csrftoken": "stale"},
        headers={
            "hx-request": "true",
            "hx-current-url": "http://testserver/trader?tab=1",
            "cookie": "csrftoken=also-stale",
        },
    )
    assert sent.status_code == 403
    assert sent.headers["hx-redirect"] == f"/login?next={quote('/trader?tab=1', safe='')}"


async def test_a_poll_without_a_session_gets_hx_redirect_not_the_sign_in_page(
    api: httpx.AsyncClient,
) -> None:
    htmx = {"hx-request": "true", "hx-current-url": "http://testserver/trader"}
    polled = await api.get("/trader/orders", headers=htmx)
    assert polled.status_code == 204 and polled.text == ""
    assert polled.headers["hx-redirect"] == "/login?next=%2Ftrader"
    # A page itself: the usual redirect, with the page to come back to.
    plain = await api.get("/trader/statement?x=1")
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/login?next={quote('/trader/statement?x=1', safe='')}"
    # A page elsewhere than ours in HX-Current-URL is never a place to come back to.
    foreign = {"hx-request": "true", "hx-current-url": "https://evil.example//evil.example/x"}
    refused = await api.get("/trader/orders", headers=foreign)
    assert refused.headers["hx-redirect"] == "/login?next=%2F"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "/\t/evil.example", ""],
)
async def test_signing_in_never_leads_to_another_site(
    api: httpx.AsyncClient, ctx: ServiceContext, target: str
) -> None:
    user = create_user(ctx.engine, Role.trader)
    signed = await page_login(api, user.email, next_path=target)
    assert signed.status_code == 303 and signed.headers["location"] == "/trader"
    form = await api.get("/login", params={"next": target})
    assert "evil" not in form.text


async def test_signing_in_comes_back_to_a_page_of_ours(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    user = create_user(ctx.engine, Role.trader)
    signed = await page_login(api, user.email, next_path="/trader?view=mine")
    assert signed.status_code == 303 and signed.headers["location"] == "/trader?view=mine"
