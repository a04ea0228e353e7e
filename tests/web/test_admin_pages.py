"""The minimal admin (`/admin`), clicked through in headless Chromium: the same services and
permissions as `/api/admin` (support reads and resolves disputes, only an admin manages
accounts), audited the same way."""

from __future__ import annotations

import re
import secrets
import string
import uuid
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, expect

from core.context import ServiceContext
from core.permissions import STAFF_ROLES
from models.users import Role
from tests.factories import create_user, login
from tests.processing.conftest import (
    make_store,
    make_trader,
    new_currency,
    open_payin,
    payin_body,
)
from tests.processing.payout_kit import create_payout, fund_store, payout_store, wait_escalated
from tests.web.test_pages import sign_in

ADMIN_PAGES = [
    "/admin",
    "/admin/orders",
    "/admin/orders?status=disputed&kind=payin",
    "/admin/orders?status=nonsense&kind=nonsense",
    "/admin/orders?flag=near_amount_credit",
    f"/admin/orders/{uuid.uuid4()}",
    "/admin/orders/not-a-uuid",
    "/admin/disputes",
    "/admin/disputes?escalated=true",
    "/admin/requisites",
    "/admin/requisites?status=",
    "/admin/requisites?status=approved",
    "/admin/users",
    "/admin/users?role=trader",
    "/admin/credits",
    "/admin/credits?outcome=",
    "/admin/settings",
    "/admin/audit",
    "/admin/audit?since=yesterday&cursor=not-ours&actor=nobody",
]


async def _csrf(page: Page) -> str:
    value = await page.locator("input[name=csrftoken]").first.get_attribute("value")
    assert value
    return value


async def _staff(
    ctx: ServiceContext, api: httpx.AsyncClient, role: Role
) -> tuple[str, dict[str, str]]:
    user = create_user(ctx.engine, role)
    return user.email, await login(api, user.email)


async def _disputed_payin(api: httpx.AsyncClient, ctx: ServiceContext) -> dict[str, Any]:
    """A pay-in the merchant disputes: the customer paid, the trader does not confirm."""
    store, order = await open_payin(api, ctx)
    await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store.headers)
    disputed = await api.post(
        f"/api/gateway/payins/{order['id']}/dispute",
        data={"reason": "customer paid 1000.00, <b>trader</b> does not confirm"},
        headers=store.headers,
    )
    assert disputed.json()["status"] == "disputed", disputed.text
    return dict(order)


async def test_an_admin_approves_a_pending_requisite(
    api: httpx.AsyncClient, ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0)
    hostile = "<img src=x onerror=\"document.title='owned'\">"
    number = "2200" + "".join(secrets.choice(string.digits) for _ in range(12))
    created = await api.post(
        "/api/trader/requisites",
        json={
            "number": number,
            "holder_name": hostile,
            "bank_code": "sber",
            "payment_method": "card",
            "currency": currency,
        },
        headers=trader.headers,
    )
    assert created.json()["status"] == "pending", created.text
    requisite_id = created.json()["id"]
    email, admin_headers = await _staff(ctx, api, Role.admin)

    page = await sign_in(browse, live_url, email, "/admin")
    pending = page.locator("#count-pending [data-count]")
    assert int(await pending.get_attribute("data-count") or 0) >= 1
    await page.goto(f"{live_url}/admin/requisites?status=pending")
    row = page.locator(f"li[data-requisite='{requisite_id}']")
    await expect(row).to_contain_text(hostile)  # shown as text, never as markup
    await expect(row).to_contain_text("****" + number[-4:])
    assert number not in await page.content()
    assert await page.locator("img[src=x]").count() == 0 and await page.title() != "owned"

    await row.get_by_role("button", name="Approve").click()
    await expect(page.locator(".flash.notice")).to_contain_text("approved")
    await expect(page.locator(f"li[data-requisite='{requisite_id}']")).to_have_count(0)
    listed = await api.get("/api/admin/requisites?status=approved", headers=admin_headers)
    assert requisite_id in {r["id"] for r in listed.json()}
    audit = await api.get(f"/api/admin/audit?target_id={requisite_id}", headers=admin_headers)
    [entry] = audit.json()
    assert (entry["target_type"], entry["before"], entry["after"]) == (
        "Requisite",
        {"status": "pending"},
        {"status": "approved"},
    )


async def test_an_admin_reads_an_orders_timeline_and_match_report(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    # Considered first (lower priority number) and refused: the report says why.
    small = await make_trader(
        api, ctx, currency, priority=1, min_amount_minor=100, max_amount_minor=200
    )
    await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    assert order["status"] == "awaiting_payment", order
    email, _ = await _staff(ctx, api, Role.admin)

    page = await sign_in(browse, live_url, email, "/admin/orders?status=awaiting_payment")
    await page.locator(f"li[data-order='{order['id']}'] a").click()
    await expect(page).to_have_url(f"{live_url}/admin/orders/{order['id']}")
    await expect(page.locator("#order")).to_have_attribute("data-status", "awaiting_payment")
    await expect(page.locator("#requisite")).to_contain_text(re.compile(r"\*{4}\d{4}"))
    await expect(page.locator("#timeline li[data-seq]").first).to_be_visible()
    await expect(page.locator("#timeline")).to_contain_text("awaiting_payment")
    rejections = page.locator("#rejections")
    await expect(rejections).to_contain_text(str(small.requisite_ids[0]))
    await expect(rejections).to_contain_text("amount_out_of_bounds")
    await expect(page.locator("#match-report")).to_contain_text("Fraud decision")


async def test_an_admin_resolves_a_dispute_with_the_actual_amount(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    live_url: str,
    browse: BrowserContext,
    no_platform_overrides: None,
) -> None:
    email, admin_headers = await _staff(ctx, api, Role.admin)
    await api.put(
        "/api/admin/settings/dispute_sla_seconds", json={"value": 1}, headers=admin_headers
    )
    order = await _disputed_payin(api, ctx)
    await wait_escalated(api, admin_headers, order["id"])

    page = await sign_in(browse, live_url, email, "/admin")
    escalated = page.locator("#count-escalated [data-count]")
    assert int(await escalated.get_attribute("data-count") or 0) >= 1
    await page.goto(f"{live_url}/admin/disputes")
    item = page.locator(f"li[data-order='{order['id']}']")
    await expect(item).to_contain_text("escalated")
    await expect(item).to_contain_text("<b>trader</b>")  # the merchant's text, as text
    await item.locator("input[value=completed]").check()
    await item.locator("input[name=actual_amount]").fill("99999.00")
    await item.locator("input[name=reason]").fill("more than the order")
    await item.get_by_role("button", name="Resolve").click()
    # Said next to the amount, in words; what was entered stays for the second try.
    await expect(item.locator(".field-problem")).to_contain_text("at most the order's amount")
    await expect(item.locator("input[name=reason]")).to_have_value("more than the order")
    await expect(item.locator("input[value=completed]")).to_be_checked()
    await item.locator("input[name=actual_amount]").fill("1000.00")
    await item.locator("input[name=reason]").fill("bank statement shows 1000.00")
    await item.get_by_role("button", name="Resolve").click()
    await expect(page.locator(".flash.notice")).to_contain_text("completed")
    await expect(page.locator(f"li[data-order='{order['id']}']")).to_have_count(0)

    shown = (await api.get(f"/api/admin/orders/{order['id']}", headers=admin_headers)).json()
    assert (shown["status"], shown["actual_amount"]) == ("completed", "1000.00")
    audit = await api.get(f"/api/admin/audit?target_id={order['id']}", headers=admin_headers)
    [entry] = audit.json()
    assert entry["target_type"] == "Order"
    assert entry["before"] == {"status": "disputed"}
    assert entry["after"] == {
        "status": "completed",
        "actual_amount": "1000.00",
        "reason": "bank statement shows 1000.00",
    }
    me = (await api.get("/api/auth/me", headers=admin_headers)).json()
    assert entry["actor_user_id"] == me["id"]

    await page.goto(f"{live_url}/admin/orders/{order['id']}")
    postings = page.locator("#postings")
    await expect(postings.locator("li[data-kind=correction]")).to_have_count(1)
    await expect(postings.locator("li[data-kind=payin_settle]")).to_have_count(1)


async def test_an_admin_creates_a_user_and_sees_the_one_time_password_once(
    api: httpx.AsyncClient, ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    email, admin_headers = await _staff(ctx, api, Role.admin)
    new_email = f"page-made-{uuid.uuid4().hex[:8]}@example.com"
    page = await sign_in(browse, live_url, email, "/admin/users")
    form = page.locator("#create-user")
    await form.locator("input[name=email]").fill(new_email)
    await form.locator("select[name=role]").select_option("trader")
    await form.get_by_role("button").click()
    await expect(page.locator("#created")).to_contain_text(new_email)
    one_time = await page.locator("#one-time-password").inner_text()
    assert len(one_time) >= 12 and one_time not in page.url
    headers = await login(api, new_email, one_time)
    me = (await api.get("/api/auth/me", headers=headers)).json()
    assert (me["role"], me["password_change_required"]) == ("trader", True)

    await page.goto(f"{live_url}/admin/users")
    await expect(page.locator("#one-time-password")).to_have_count(0)
    assert one_time not in await page.content()
    audit = (await api.get(f"/api/admin/audit?target_id={me['id']}", headers=admin_headers)).json()
    assert [(a["target_type"], a["after"]["email"]) for a in audit] == [("User", new_email)]
    assert not any("password" in key for a in audit for key in a["after"])

    # Block the new account: its token stops working at once; unblock it again.
    row = page.locator(f"li[data-user='{me['id']}']")
    await row.get_by_role("button", name="Block").click()
    await expect(page.locator(".flash.notice")).to_contain_text("blocked")
    assert (await api.get("/api/auth/me", headers=headers)).status_code == 401
    await page.locator(f"li[data-user='{me['id']}']").get_by_role("button", name="Unblock").click()
    await expect(page.locator(f"li[data-user='{me['id']}']")).to_have_attribute(
        "data-active", "true"
    )


async def test_support_resolves_disputes_but_manages_nothing_else(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    order = await _disputed_payin(api, ctx)
    email, support_headers = await _staff(ctx, api, Role.support)
    page = await sign_in(browse, live_url, email, "/admin/disputes")
    item = page.locator(f"li[data-order='{order['id']}']")
    await expect(item).to_contain_text(order["amount"])
    # (Other tests' disputes may be listed too: this order's own form.)
    await expect(item.locator("form.resolve")).to_have_count(1)
    await page.goto(f"{live_url}/admin/users")
    await expect(page.locator("#create-user")).to_have_count(0)

    token = await _csrf(page)  # the sign-out form's: a valid token for this session
    forged = {
        f"/admin/requisites/{uuid.uuid4()}/approve": {},
        "/admin/users": {"email": f"x-{uuid.uuid4().hex[:6]}@example.com", "role": "admin"},
        f"/admin/users/{uuid.uuid4()}/block": {},
    }
    for path, fields in forged.items():
        refused = await page.request.post(
            f"{live_url}{path}", form={"csrftoken": token, **fields}, max_redirects=0
        )
        assert refused.status == 403, path
    shown = await api.get(f"/api/admin/orders/{order['id']}", headers=support_headers)
    assert shown.json()["status"] == "disputed"


async def test_admin_pages_are_staff_only_and_never_answer_5xx(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    _, admin_headers = await _staff(ctx, api, Role.admin)
    payout_kit = payout_store(ctx, currency)
    await fund_store(api, admin_headers, payout_kit, "5000.00")
    payout = await create_payout(api, payout_kit)
    pages = [*ADMIN_PAGES, f"/admin/orders/{order['id']}", f"/admin/orders/{payout['id']}"]
    for role in Role:
        user = create_user(ctx.engine, role)
        page = await sign_in(browse, live_url, user.email, "/")
        for path in pages:
            response = await page.goto(f"{live_url}{path}")
            assert response is not None and response.status < 500, (role, path)
            if role.value not in STAFF_ROLES:
                assert response.status == 403, (role, path)
        if role == Role.support:
            await expect(page.locator("#recipient")).to_contain_text(payout["recipient"]["number"])
        await browse.clear_cookies()
    anonymous = await browse.new_page()
    await anonymous.goto(f"{live_url}/admin/disputes")
    assert "/login" in anonymous.url
