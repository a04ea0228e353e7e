"""Page forms as a person meets them: a reload after a form never does it again, a secret is
shown once, a refused form says why in plain words next to the field and keeps what was
typed, and an error is a page (the API keeps its JSON)."""

from __future__ import annotations

import re
import uuid

import httpx
import pyotp
from playwright.async_api import BrowserContext, Page, ViewportSize, expect
from sqlmodel import Session, func, select

from api.pages.session import COOKIE
from core.context import ServiceContext
from models.merchants import Merchant, Store
from models.users import Role, User
from tests.factories import create_user, login
from tests.processing.conftest import new_currency
from tests.web.test_live_desk import SIZES
from tests.web.test_pages import sign_in

MISSING = f"/api/gateway/payins/{uuid.uuid4()}"
HTML = {"accept": "text/html,application/xhtml+xml"}


def stores_of(ctx: ServiceContext, email: str) -> int:
    with Session(ctx.engine) as session:
        owner = session.exec(select(User).where(User.email == email)).one()
        merchant = session.exec(select(Merchant).where(Merchant.owner_user_id == owner.id)).one()
        query = select(func.count()).select_from(Store).where(Store.merchant_id == merchant.id)
        return int(session.exec(query).one())


async def new_store_form(
    ctx: ServiceContext, live_url: str, browse: BrowserContext, size: ViewportSize
) -> tuple[User, Page]:
    """A new merchant on the stores page, at `size`."""
    merchant = create_user(ctx.engine, Role.merchant)
    page = await sign_in(browse, live_url, merchant.email, "/merchant")
    await page.set_viewport_size(size)
    return merchant, page


async def fill_store(
    page: Page, name: str, currency: str, callback_url: str = "", payouts: bool = False
) -> None:
    """Fill in the new store form and send it."""
    form = page.locator("#new-store")
    await form.locator("input[name=name]").fill(name)
    await form.locator("input[name=currency]").fill(currency)
    await form.locator("input[name=callback_url]").fill(callback_url)
    if payouts:
        await form.locator("input[name=payout_enabled]").check()
    await form.get_by_role("button", name="Create store").click()


@SIZES
async def test_reloading_after_create_store_or_rotate_key_does_nothing_again(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    live_url: str,
    browse: BrowserContext,
    size: ViewportSize,
) -> None:
    merchant, page = await new_store_form(ctx, live_url, browse, size)
    await fill_store(page, "Corner shop", new_currency(ctx))
    await expect(page.locator(".flash.notice")).to_contain_text("Corner shop created")
    api_key = await page.locator("#api-key").input_value()
    secret = await page.locator("#signing-secret").input_value()

    shown = await page.reload()
    assert shown is not None and shown.request.method == "GET"
    await expect(page.locator("li[data-store]")).to_have_count(1)
    assert stores_of(ctx, merchant.email) == 1
    # The secrets were shown once: not on the reload.
    await expect(page.locator("#secrets")).to_have_count(0)
    html = await page.content()
    assert api_key not in html and secret not in html
    assert (await api.get(MISSING, headers={"X-API-Key": api_key})).status_code == 404

    await page.get_by_role("button", name="Rotate API key").click()
    await expect(page.locator(".flash.notice")).to_contain_text("New API key")
    new_key = await page.locator("#api-key").input_value()
    await page.reload()
    await expect(page.locator("#secrets")).to_have_count(0)
    assert new_key not in await page.content()
    # Not rotated again by the reload: the key shown still works.
    assert (await api.get(MISSING, headers={"X-API-Key": new_key})).status_code == 404
    assert (await api.get(MISSING, headers={"X-API-Key": api_key})).status_code == 401


async def test_a_secret_kept_for_one_showing_is_not_shown_on_a_second_get(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    """The same at the HTTP level: the POST answers 303 (nothing secret in it), the first GET
    shows the key, a second GET with the very same cookies does not."""
    merchant = create_user(ctx.engine, Role.merchant)
    token = (await login(api, merchant.email))["Authorization"].removeprefix("Bearer ")
    form = await api.get("/login")
    csrf = form.cookies["csrftoken"]
    cookies = f"csrftoken={csrf}; {COOKIE}={token}"
    body = {"csrftoken": csrf, "name": "Kiosk", "currency": new_currency(ctx)}
    made = await api.post("/merchant/stores", data=body, headers={"cookie": cookies})
    assert made.status_code == 303 and made.headers["location"].startswith("/merchant?")
    assert "jp_live_" not in made.text + made.headers["location"]
    handle = made.cookies["jivapay_once"]
    again = {"cookie": f"{cookies}; jivapay_once={handle}"}
    # Another page visited first finds nothing in it and leaves it for the stores page.
    elsewhere = await api.get("/account/mfa/codes", headers=again)
    assert elsewhere.status_code == 200 and "jp_live_" not in elsewhere.text
    assert "jivapay_once" not in elsewhere.headers.get("set-cookie", "")
    first = await api.get("/merchant", headers=again)
    shown = re.search(r'id="api-key" value="([^"]+)"', first.text)
    assert shown and shown[1].startswith("jp_live_")
    second = await api.get("/merchant", headers=again)
    assert second.status_code == 200 and shown[1] not in second.text
    assert 'id="api-key"' not in second.text
    assert stores_of(ctx, merchant.email) == 1


@SIZES
async def test_a_refused_store_form_says_why_next_to_the_field_and_keeps_the_values(
    ctx: ServiceContext, live_url: str, browse: BrowserContext, size: ViewportSize
) -> None:
    merchant, page = await new_store_form(ctx, live_url, browse, size)
    await fill_store(page, "Night market", "rub!", "ftp://shop.example/hook", payouts=True)

    form = page.locator("#new-store")
    currency = form.locator("input[name=currency]")
    await expect(currency).to_have_attribute("aria-invalid", "true")
    problem = form.locator("#currency-problem")
    await expect(problem).to_have_text("Enter a currency code of capital letters, like RUB or USD.")
    await expect(form.locator("#callback_url-problem")).to_contain_text("starts with https://")
    words = await form.inner_text()
    for machine in ("^[A-Z]", "String should", "pattern", "str", "Value error"):
        assert machine not in words
    # What was typed is still there, each box as it was left.
    await expect(form.locator("input[name=name]")).to_have_value("Night market")
    await expect(currency).to_have_value("rub!")
    await expect(form.locator("input[name=callback_url]")).to_have_value("ftp://shop.example/hook")
    await expect(form.locator("input[name=payout_enabled]")).to_be_checked()
    await expect(form.locator("input[name=payin_enabled]")).to_be_checked()
    await expect(form.locator("#name-problem")).to_have_count(0)
    # The message sits next to its field (right under it), on a phone too.
    box, note = await currency.bounding_box(), await problem.bounding_box()
    assert box and note and 0 <= note["y"] - (box["y"] + box["height"]) < 40
    assert stores_of(ctx, merchant.email) == 0


async def test_an_admin_reloading_after_creating_a_user_creates_no_second_one(
    api: httpx.AsyncClient, ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    admin = create_user(ctx.engine, Role.admin)
    new_email = f"reload-{uuid.uuid4().hex[:8]}@example.com"
    page = await sign_in(browse, live_url, admin.email, "/admin/users")
    form = page.locator("#create-user")
    await form.locator("input[name=email]").fill(new_email)
    await form.locator("select[name=role]").select_option("trader")
    await form.get_by_role("button").click()
    one_time = await page.locator("#one-time-password").inner_text()
    await page.reload()
    await expect(page.locator(".flash.error")).to_have_count(0)  # no "email taken"
    await expect(page.locator("#one-time-password")).to_have_count(0)
    assert one_time not in await page.content()
    with Session(ctx.engine) as session:
        assert len(session.exec(select(User).where(User.email == new_email)).all()) == 1

    # A refused account form: plain words next to the field, the values kept.
    form = page.locator("#create-user")
    await form.locator("input[name=email]").fill(new_email)  # taken now
    await form.locator("select[name=role]").select_option("merchant")
    await form.locator("input[name=full_name]").fill("Second Try")
    await form.get_by_role("button").click()
    await expect(page.locator("#create-user input[name=email]")).to_have_value(new_email)
    await expect(page.locator("#create-user select[name=role]")).to_have_value("merchant")
    await expect(page.locator("#create-user input[name=full_name]")).to_have_value("Second Try")
    await expect(page.locator("#email-problem, .flash.error").first).to_be_visible()


async def test_page_errors_are_pages_and_the_api_keeps_its_json(
    api: httpx.AsyncClient, ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    merchant = create_user(ctx.engine, Role.merchant)
    page = await sign_in(browse, live_url, merchant.email, "/merchant")

    missing = await page.goto(f"{live_url}/no-such-page")
    assert missing is not None and missing.status == 404
    assert missing.headers["content-type"].startswith("text/html")
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()

    refused = await page.goto(f"{live_url}/trader")
    assert refused is not None and refused.status == 403
    await expect(page.locator("h1")).to_contain_text("another kind of account")

    too_long = await page.goto(f"{live_url}/merchant/orders?cursor={'x' * 80}")
    assert too_long is not None and too_long.status == 422
    assert too_long.headers["content-type"].startswith("text/html")
    await expect(page.locator("#error-page")).to_have_attribute("data-status", "422")
    assert "string_too_long" not in await page.content()

    # The API answers the same mistakes in its JSON shape, whatever the client accepts.
    headers = await login(api, merchant.email) | HTML
    for path, status in (("/api/no-such-thing", 404), ("/api/trader/orders", 403)):
        answer = await api.get(path, headers=headers)
        assert answer.status_code == status
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["error"]["code"]
    bad = await api.get("/api/merchant/orders", params={"limit": "lots"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


async def test_a_second_factor_secret_and_its_recovery_codes_are_shown_once(
    ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    trader = create_user(ctx.engine, Role.trader)
    page = await sign_in(browse, live_url, trader.email, "/account/mfa")
    await page.get_by_role("button", name="Set up").click()
    await expect(page).to_have_url(f"{live_url}/account/mfa/setup")
    secret = await page.locator("#mfa-secret").inner_text()
    await page.reload()  # the secret is not shown again, and no other one is made
    await expect(page).to_have_url(re.compile(f"{live_url}/account/mfa\\?"))
    assert secret not in await page.content()

    await page.get_by_role("button", name="Set up").click()
    secret = await page.locator("#mfa-secret").inner_text()
    await page.fill("input[name=code]", pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn on").click()
    await expect(page).to_have_url(re.compile(f"{live_url}/account/mfa/codes"))
    await expect(page.locator("#recovery-codes li")).to_have_count(10)
    first = await page.locator("#recovery-codes li").first.inner_text()
    await page.reload()
    await expect(page.locator("#codes-gone")).to_be_visible()
    assert first not in await page.content()
    await page.get_by_role("link", name="Continue").click()
    await expect(page.locator("#mfa-status")).to_contain_text("On · 10 recovery codes left")
