"""The pages people use, clicked through in headless Chromium."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, expect
from sqlmodel import Session, select

from core.context import ServiceContext
from models.connect import Consent, ConsentKind
from models.users import Role
from tests.connect.helpers import ADMIN
from tests.factories import PASSWORD, TOTP_SECRETS, create_user, login, next_code
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body


async def sign_in(
    context: BrowserContext, base: str, email: str, path: str, password: str = PASSWORD
) -> Page:
    page = await context.new_page()
    await page.goto(f"{base}/login?next={path}")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    if email in TOTP_SECRETS:  # a second factor: the code after the password
        await page.locator("#mfa-code").wait_for()
        await page.fill("input[name=code]", next_code(email))
        await page.click("#mfa-code button[type=submit]")
    await expect(page).to_have_url(re.compile(f"{base}/"))
    return page


async def test_a_trader_confirms_an_order_from_the_desk(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    me = (await api.get("/api/auth/me", headers=trader.headers)).json()
    page = await sign_in(browse, live_url, me["email"], "/trader")

    card = page.locator(f"li[data-order='{order['id']}']")
    await expect(card).to_contain_text(order["amount"])
    await card.get_by_role("button", name=re.compile("confirm")).click()
    await expect(page.locator(".flash.notice")).to_contain_text("completed")
    await expect(page.locator(f"li[data-order='{order['id']}']")).to_have_count(0)
    shown = await api.get(f"/api/gateway/payins/{order['id']}", headers=store.headers)
    assert shown.json()["status"] == "completed"


async def test_a_trader_never_sees_another_traders_order(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    stranger = create_user(ctx.engine, Role.trader)
    page = await sign_in(browse, live_url, stranger.email, "/trader")
    await expect(page.locator("#orders")).not_to_contain_text(order["amount"])
    refused = await page.request.post(
        f"{live_url}/trader/orders/{order['id']}/confirm",
        form={"csrftoken": await _csrf(page)},
        max_redirects=0,
    )
    assert refused.status == 303 and "error=Order" in refused.headers["location"]


async def test_a_form_without_its_csrf_token_is_refused(
    ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    trader = create_user(ctx.engine, Role.trader)
    page = await sign_in(browse, live_url, trader.email, "/trader")
    forged = await page.request.post(f"{live_url}/trader/status", form={"online": "true"})
    assert forged.status == 403
    await page.goto(f"{live_url}/trader")
    await expect(page.locator(".badge").first).to_have_text("offline")


async def analysed(api: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """The dashboard document once its first analysis is stored."""
    deadline = asyncio.get_running_loop().time() + 120
    while not (board := (await api.get("/api/dashboard", headers=headers)).json())["metrics"]:
        assert asyncio.get_running_loop().time() < deadline, board
        await asyncio.sleep(0.2)
    return dict(board)


async def test_a_connect_user_connects_banks_and_reads_the_dashboard(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    live_url: str,
    browse: BrowserContext,
    bank_emulator: str,
) -> None:
    email = f"app-{uuid.uuid4().hex[:10]}@example.com"
    page = await browse.new_page()
    await page.goto(f"{live_url}/register")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{live_url}/app")

    await page.uncheck("input[value=sbank]")
    await page.check("input[name=sandbox_sign]")
    await page.click("form.connect button[type=submit]")
    for bank in ("vbank", "abank"):
        ready = page.locator(f"li[data-bank={bank}][data-status=ready]")
        await expect(ready).to_have_count(1, timeout=90_000)
    # "Ready" is the sync; the analysis follows it. The page shows the dashboard once the
    # analysis is stored (until then a reload shows the progress card).
    headers = await login(api, email)
    board = await analysed(api, headers)
    await page.reload()
    await expect(page.locator("#safe-to-spend")).to_be_visible(timeout=30_000)
    metrics = board["metrics"]
    assert (
        await page.get_attribute("#safe-to-spend", "data-value")
        == (metrics["safe_to_spend"]["amount"])
    )
    assert (
        await page.get_attribute("#per-day", "data-value")
        == (metrics["safe_to_spend_per_day"]["amount"])
    )
    assert await page.get_attribute("#health", "data-value") == str(metrics["health"]["score"])
    assert await page.get_attribute("#debts", "data-total") == metrics["total_debt"]["amount"]

    # The manual bank, without sandbox signing, waits for the user's own approval.
    await page.uncheck("input[value=vbank]")
    await page.uncheck("input[value=abank]")
    await page.check("input[value=sbank]")
    await page.uncheck("input[name=sandbox_sign]")
    await page.click("form.connect button[type=submit]")
    waiting = page.locator("li[data-bank=sbank]")
    await expect(waiting).to_contain_text("waiting for your approval", timeout=30_000)
    # The user approves in the bank's own app, then says so here: checked at once.
    me = (await api.get("/api/auth/me", headers=headers)).json()

    async def approve_at_bank(kind: ConsentKind) -> None:
        with Session(ctx.engine) as session:
            request_id = session.exec(
                select(Consent.request_id).where(
                    Consent.user_id == uuid.UUID(me["id"]),
                    Consent.bank_code == "sbank",
                    Consent.kind == kind,
                )
            ).one()
        async with httpx.AsyncClient(base_url=bank_emulator) as bank_http:
            decided = await bank_http.post(
                "/sbank/admin/consents/decide", json={"request_id": request_id}, headers=ADMIN
            )
            decided.raise_for_status()

    await approve_at_bank(ConsentKind.accounts)
    await page.click("li[data-bank=sbank] button:has-text('I approved it')")
    ready = page.locator("li[data-bank=sbank][data-status=ready]")
    await expect(ready).to_have_count(1, timeout=60_000)
    # Loans and deposits wait for the bank's own approval; once given, the button shows it.
    awaiting = ready.locator("[data-warning=agreements_awaiting_approval]")
    await expect(awaiting).to_have_count(1)
    await approve_at_bank(ConsentKind.product_agreements)
    await page.click("li[data-bank=sbank] button:has-text('I approved it')")
    await expect(awaiting).to_have_count(0, timeout=60_000)


async def test_bank_text_is_shown_as_text_never_as_markup(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    live_url: str,
    browse: BrowserContext,
    bank_emulator: str,
) -> None:
    user = create_user(ctx.engine, Role.connect_user, external_client_id="team042-7")
    hostile = "<img src=x onerror=\"document.title='owned'\">"
    async with httpx.AsyncClient(base_url=bank_emulator) as bank:
        accounts = (await bank.get("/vbank/admin/clients/team042-7", headers=ADMIN)).json()
        account_id = accounts["accounts"][0]["account_id"]
        added = await bank.post(
            "/vbank/admin/transactions",
            headers=ADMIN,
            json={
                "client_id": "team042-7",
                "account_id": account_id,
                "transactions": [{"amount": "1.00", "information": hostile}],
            },
        )
        added.raise_for_status()
    page = await sign_in(browse, live_url, user.email, "/app")
    await page.uncheck("input[value=abank]")
    await page.uncheck("input[value=sbank]")
    await page.click("form.connect button[type=submit]")
    ready = page.locator("li[data-bank=vbank][data-status=ready]")
    await expect(ready).to_have_count(1, timeout=90_000)
    await page.reload()
    await expect(page.get_by_text(hostile).first).to_be_visible(timeout=30_000)
    assert await page.title() != "owned"
    assert await page.locator("img[src=x]").count() == 0


async def test_no_page_answers_5xx_for_any_role(
    ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    pages = ["/", "/login", "/register", "/app", "/app/banks", "/trader", "/trader/orders"]
    pages += ["/trader/statement", "/merchant", "/merchant/orders", "/admin", "/admin/orders"]
    for role in (Role.trader, Role.connect_user, Role.merchant, Role.admin):
        user = create_user(ctx.engine, role)
        context_page = await sign_in(browse, live_url, user.email, "/")
        for path in pages:
            response = await context_page.goto(f"{live_url}{path}")
            assert response is not None and response.status < 500, (role, path)
        await context_page.context.clear_cookies()
    anonymous = await browse.new_page()
    response = await anonymous.goto(f"{live_url}/trader")
    assert response is not None and "/login" in anonymous.url


async def test_a_one_time_password_leads_to_the_password_form_first(
    api: httpx.AsyncClient, ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    admin_headers = await login(api, create_user(ctx.engine, Role.admin).email)
    email = f"otp-{uuid.uuid4().hex[:8]}@example.com"
    created = await api.post(
        "/api/admin/users", json={"email": email, "role": "trader"}, headers=admin_headers
    )
    one_time = created.json()["one_time_password"]
    page = await sign_in(browse, live_url, email, "/trader", password=one_time)
    await expect(page).to_have_url(re.compile(f"{live_url}/password"))
    await page.goto(f"{live_url}/trader/orders")  # every page leads back to the form
    await expect(page).to_have_url(re.compile(f"{live_url}/password"))

    await page.fill("input[name=current_password]", one_time)
    await page.fill("input[name=new_password]", "trader-own-password")
    await page.get_by_role("button", name="Change password").click()
    await expect(page).to_have_url(re.compile(f"{live_url}/trader"))
    await expect(page.locator(".flash.notice")).to_contain_text("Password changed")
    assert (await login(api, email, "trader-own-password"))["Authorization"]


async def _csrf(page: Page) -> str:
    value = await page.locator("input[name=csrftoken]").first.get_attribute("value")
    assert value
    return value
