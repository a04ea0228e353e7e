"""The trader desk's pay-outs and statement bridge, clicked through in headless Chromium."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import BrowserContext, FilePayload, expect

from core.context import ServiceContext
from models.users import Role
from tests.factories import create_user, login
from tests.processing.bridge_kit import RUB, bank_credit, bridge_trader, link
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.processing.payout_kit import (
    CARD,
    PNG,
    fund_store,
    payout_body,
    payout_store,
    payout_trader,
    wait_payout,
)
from tests.web.test_pages import sign_in


async def test_a_trader_takes_and_pays_a_payout_from_the_desk(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    live_url: str,
    browse: BrowserContext,
) -> None:
    admin_headers = await login(api, create_user(ctx.engine, Role.admin).email)
    currency = new_currency(ctx)
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)
    created = await api.post(
        "/api/gateway/payouts", json=payout_body(currency), headers=store.headers
    )
    payout = created.json()
    me = (await api.get("/api/auth/me", headers=trader.headers)).json()
    page = await sign_in(browse, live_url, me["email"], "/trader")

    offer = page.locator(f"li[data-offer='{payout['id']}']")
    await expect(offer).to_contain_text("1000.00")
    await expect(offer).to_contain_text("1111")
    digits = CARD.replace(" ", "")
    assert digits not in (await offer.inner_text()).replace(" ", "")  # masked until taken
    await offer.get_by_role("button", name="Take").click()
    await expect(page).to_have_url(re.compile(f"/trader/payouts/{payout['id']}"))
    shown = (await page.locator(".recipient").inner_text()).replace(" ", "")
    assert shown == digits  # the taker must pay it: the number in full

    # an upload with the token only in the body (no JavaScript) is refused, never a 500
    token = await page.locator("input[name=csrftoken]").first.get_attribute("value")
    proof: FilePayload = {"name": "proof.png", "mimeType": "image/png", "buffer": PNG}
    plain = await page.request.post(
        f"{live_url}/trader/payouts/{payout['id']}/paid",
        multipart={"csrftoken": token or "", "proof": proof},
    )
    assert plain.status == 403 and "x-csrftoken" in await plain.text()
    await page.set_input_files("input[name=proof]", proof)
    await page.get_by_role("button", name=re.compile("mark paid")).click()
    await expect(page.locator(".flash.notice")).to_contain_text("Pay-out 1000.00")
    await wait_payout(api, store, payout["id"], "completed")


async def test_money_arrived_is_offered_on_the_desk_and_one_click_confirms(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    kit = await bridge_trader(api, ctx, slot=8, bank="abank", sub_type="Deposit")
    assert (await link(api, kit)).status_code == 200
    policy = {"policy": "suggest"}
    await api.put("/api/trader/statement/policy", json=policy, headers=kit.headers)
    store = make_store(ctx, RUB)
    body = payin_body(RUB, bank_code=kit.platform_bank)
    order = (await api.post("/api/gateway/payins", json=body, headers=store.headers)).json()
    await bank_credit(ctx, kit, order["amount"])
    me = (await api.get("/api/auth/me", headers=kit.headers)).json()
    page = await sign_in(browse, live_url, me["email"], "/trader")

    offered = page.locator(f"li[data-suggestion='{order['id']}']")
    # the panel refreshes itself every 5 s: the credit shows up without a reload
    await expect(offered).to_contain_text(f"Money arrived: {order['amount']}", timeout=20_000)
    await offered.get_by_role("button", name="Confirm").click()
    await expect(page.locator(".flash.notice")).to_contain_text("completed")
    done = await api.get(f"/api/gateway/payins/{order['id']}", headers=store.headers)
    assert done.json()["status"] == "completed"


@pytest.mark.usefixtures("no_platform_overrides")
async def test_the_desk_says_why_the_platform_set_the_trader_offline(
    api: httpx.AsyncClient, ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    admin_headers = await login(api, create_user(ctx.engine, Role.admin).email)
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, balance_minor=50_000)  # 500.00
    minimum = {"value": {currency: 100_000}}  # 1000.00: the trader is below it at once
    put = await api.put(
        "/api/admin/settings/min_working_balance", json=minimum, headers=admin_headers
    )
    assert put.status_code == 200, put.text
    me = (await api.get("/api/auth/me", headers=trader.headers)).json()
    page = await sign_in(browse, live_url, me["email"], "/trader")

    await expect(page.locator(".badge").first).to_have_text("offline")
    await expect(page.locator("main")).to_contain_text("working balance fell below the minimum")
    await expect(page.locator("main")).to_contain_text("500.00 to work with")
    await page.get_by_role("button", name="Go online").click()
    await expect(page.locator(".flash.error").first).to_contain_text("below the minimum")
    await expect(page.locator(".badge").first).to_have_text("offline")
