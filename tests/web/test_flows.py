"""One flow across two people's pages, in two browsers: the trader confirms on the desk, and
the merchant's cabinet shows the order completed."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.async_api import Browser, expect

from core.context import ServiceContext
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.web.test_merchant_pages import owner_email
from tests.web.test_pages import sign_in


async def test_the_trader_confirms_and_the_merchant_sees_it_completed(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    live_url: str,
    browser: Browser,
    tmp_path: Path,
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    trader = await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    merchant = await browser.new_context(viewport={"width": 1280, "height": 900})
    desk = await browser.new_context(viewport={"width": 412, "height": 915})  # a phone
    try:
        cabinet = await sign_in(merchant, live_url, owner_email(ctx, store.store_id), "/merchant")
        await cabinet.goto(f"{live_url}/merchant/orders/{order['id']}")
        await expect(cabinet.locator("main")).to_contain_text("awaiting")

        me = (await api.get("/api/auth/me", headers=trader.headers)).json()
        phone = await sign_in(desk, live_url, me["email"], "/trader")
        card = phone.locator(f"li[data-order='{order['id']}']")
        await card.get_by_role("button", name=re.compile("confirm")).click()
        await expect(phone.locator(".flash.notice")).to_contain_text("completed")

        await cabinet.reload()
        await expect(cabinet.locator("main")).to_contain_text("completed")
        await cabinet.goto(f"{live_url}/merchant/orders?status=completed")
        await expect(cabinet.locator("main")).to_contain_text(order["merchant_order_id"])
    except Exception:
        for name, context in (("merchant", merchant), ("trader", desk)):
            for index, shown in enumerate(context.pages):
                await shown.screenshot(path=tmp_path / f"{name}-{index}.png", full_page=True)
        print(f"screenshots in {tmp_path}")
        raise
    finally:
        await merchant.close()
        await desk.close()
