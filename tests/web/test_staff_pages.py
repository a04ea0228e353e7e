"""The staff pages over the records, in headless Chromium: the audit log (filters, keyset
pages, secrets hidden), the platform settings (edited with plain-word errors, audited) and an
order's files opened through a short-lived presigned S3 link (parties and staff only)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import BrowserContext, expect
from sqlmodel import Session, select

from core.context import ServiceContext
from models.audit import AuditEntry
from models.merchants import Merchant, Store
from models.orders import Order
from models.traders import Trader
from models.users import Role, User
from tests.factories import create_user, login
from tests.processing.conftest import open_payin
from tests.web.test_pages import sign_in


def _entries(ctx: ServiceContext, actor: uuid.UUID, count: int, at: datetime) -> list[str]:
    """`count` entries by `actor`, one second apart ending at `at` (newest last), their ids."""
    rows = [
        AuditEntry(
            actor_user_id=actor,
            action="PATCH /api/admin/traders/{trader_id}",
            target_type="Trader",
            target_id=f"t-{n}",
            before={"limit": n},
            after={"limit": n + 1, "signing_secret": "very-secret-value"},
            at=at - timedelta(seconds=count - n),
        )
        for n in range(count)
    ]
    with Session(ctx.engine, expire_on_commit=False) as session:
        session.add_all(rows)
        session.commit()
    return [str(row.id) for row in rows]


async def test_the_audit_log_filters_pages_and_hides_secrets(
    ctx: ServiceContext, live_url: str, browse: BrowserContext
) -> None:
    admin = create_user(ctx.engine, Role.admin)
    actor = create_user(ctx.engine, Role.support)
    now = datetime.now(UTC)
    recent = _entries(ctx, actor.id, 55, now)
    [old] = _entries(ctx, actor.id, 1, datetime(2020, 3, 1, 12, tzinfo=UTC))

    page = await sign_in(browse, live_url, admin.email, "/admin")
    await page.get_by_role("link", name="Audit log").click()
    await expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    await page.fill("input[name=actor]", actor.email)
    await page.click("#audit-filter button[type=submit]")
    items = page.locator("#audit li[data-entry]")
    await expect(items).to_have_count(50)
    first = [await items.nth(i).get_attribute("data-entry") for i in range(50)]
    assert first == recent[::-1][:50]  # newest first
    assert "very-secret-value" not in await page.content()
    await expect(items.first.locator("[data-key=signing_secret]")).to_contain_text("(hidden)")

    await page.click("#older")
    await expect(items).to_have_count(6)
    rest = [await items.nth(i).get_attribute("data-entry") for i in range(6)]
    assert rest == [*recent[::-1][50:], old]  # no row skipped or repeated

    # By day, by object and by action.
    await page.goto(f"{live_url}/admin/audit?actor={actor.id}&since=2020-02-01&until=2020-03-01")
    await expect(items).to_have_count(1)
    await expect(items.first).to_have_attribute("data-entry", old)
    await page.goto(f"{live_url}/admin/audit?actor={actor.id}&target=t-7")
    await expect(items).to_have_count(1)
    await page.goto(f"{live_url}/admin/audit?actor={actor.id}&action=POST")
    await expect(items).to_have_count(0)
    # Another actor's filter shows none of these; a date not a date is said in words.
    await page.goto(f"{live_url}/admin/audit?actor={admin.email}&since=31.12.2026")
    await expect(page.locator(".field-problem[data-field=since]")).to_contain_text("2026-12-31")
    await expect(page.locator("#audit li[data-entry]")).to_have_count(0)
    bad = await page.goto(f"{live_url}/admin/audit?cursor=not-ours")
    assert bad is not None and bad.status == 422

    # Support and finance read orders but not the audit log; neither do traders.
    for role in (Role.support, Role.finance, Role.trader, Role.merchant):
        other = create_user(ctx.engine, role)
        await browse.clear_cookies()
        shown = await sign_in(browse, live_url, other.email, "/")
        answer = await shown.goto(f"{live_url}/admin/audit")
        assert answer is not None and answer.status == 403, role
        assert "very-secret-value" not in await shown.content()
        await expect(shown.get_by_role("link", name="Audit log")).to_have_count(0)


async def test_an_admin_edits_a_setting_with_plain_word_errors_and_it_is_audited(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    live_url: str,
    browse: BrowserContext,
    no_platform_overrides: None,
) -> None:
    admin = create_user(ctx.engine, Role.admin)
    headers = await login(api, admin.email)
    page = await sign_in(browse, live_url, admin.email, "/admin/settings")
    row = page.locator("li[data-setting=dispute_sla_seconds]")

    for typed, words in (("soon", "whole number"), ("0", "Enter 1 or more")):
        await row.locator("input[name=value]").fill(typed)
        await row.get_by_role("button", name="Save").click()
        await expect(row.locator(".field-problem")).to_contain_text(words)
        await expect(row.locator("input[name=value]")).to_have_value(typed)
    rate = page.locator("li[data-setting=user_rate_limit]")
    await rate.locator("input[name=value]").fill("fast")
    await rate.get_by_role("button", name="Save").click()
    await expect(rate.locator(".field-problem")).to_contain_text("like 600/minute")
    listed = (await api.get("/api/admin/settings", headers=headers)).json()
    assert {s["key"]: s["source"] for s in listed}["dispute_sla_seconds"] == "environment"

    await row.locator("input[name=value]").fill("7200")
    await row.get_by_role("button", name="Save").click()
    await expect(page.locator(".flash.notice")).to_contain_text("dispute sla seconds")
    assert page.url.endswith("/admin/settings?notice=Saved%3A%20dispute%20sla%20seconds")
    await expect(row.locator(".value")).to_have_text("7200")
    await expect(row).to_have_attribute("data-overridden", "true")
    listed = (await api.get("/api/admin/settings", headers=headers)).json()
    assert {s["key"]: s["value"] for s in listed}["dispute_sla_seconds"] == 7200
    audit = await api.get("/api/admin/audit?target_id=dispute_sla_seconds", headers=headers)
    [entry] = [e for e in audit.json() if e["actor_user_id"] == str(admin.id)]
    assert entry["before"] == {} and entry["after"]["key"] == "dispute_sla_seconds"
    assert entry["target_type"] == "PlatformSetting"
    assert entry["action"] == "POST /admin/settings/{key}"
    assert entry["after"]["value"] == 7200

    await row.get_by_role("button", name="Back to the default").click()
    await expect(page.locator(".flash.notice")).to_contain_text("Back to the default")
    await expect(row).to_have_attribute("data-overridden", "false")
    audit = await api.get("/api/admin/audit?target_id=dispute_sla_seconds", headers=headers)
    mine = [e for e in audit.json() if e["actor_user_id"] == str(admin.id)]
    assert [e["action"] for e in mine] == [
        "POST /admin/settings/{key}/reset",
        "POST /admin/settings/{key}",
    ]
    await row.locator("input[name=value]").fill("7200")
    await row.get_by_role("button", name="Save").click()
    await expect(row).to_have_attribute("data-overridden", "true")

    # Support reads the settings but has no form, and a forged post is refused.
    support = create_user(ctx.engine, Role.support)
    await browse.clear_cookies()
    shown = await sign_in(browse, live_url, support.email, "/admin/settings")
    await expect(shown.locator("li[data-setting=dispute_sla_seconds]")).to_contain_text("7200")
    await expect(shown.locator("#settings form")).to_have_count(0)
    token = await shown.locator("input[name=csrftoken]").first.get_attribute("value")
    forged = await shown.request.post(
        f"{live_url}/admin/settings/dispute_sla_seconds",
        form={"csrftoken": token or "", "value": "1"},
        max_redirects=0,
    )
    assert forged.status == 403
    trader = create_user(ctx.engine, Role.trader)
    await browse.clear_cookies()
    other = await sign_in(browse, live_url, trader.email, "/")
    answer = await other.goto(f"{live_url}/admin/settings")
    assert answer is not None and answer.status == 403


def _trader_email(ctx: ServiceContext, order_id: str) -> str:
    with Session(ctx.engine) as session:
        order = session.get(Order, uuid.UUID(order_id))
        assert order is not None and order.trader_id is not None
        trader = session.get(Trader, order.trader_id)
        assert trader is not None
        return session.exec(select(User.email).where(User.id == trader.user_id)).one()


def _owner_email(ctx: ServiceContext, store_id: uuid.UUID) -> str:
    with Session(ctx.engine) as session:
        store = session.get(Store, store_id)
        assert store is not None
        merchant = session.get(Merchant, store.merchant_id)
        assert merchant is not None
        return session.exec(select(User.email).where(User.id == merchant.owner_user_id)).one()


async def test_an_orders_receipt_opens_by_a_presigned_link_for_its_parties_and_staff(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, live_url: str, browse: BrowserContext
) -> None:
    store, order = await open_payin(api, ctx)
    receipt = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(300)
    paid = await api.post(
        f"/api/gateway/payins/{order['id']}/paid",
        files={"receipt": ("r.png", receipt, "image/png")},
        headers=store.headers,
    )
    assert paid.status_code < 300, paid.text
    evidence = b"%PDF-1.4 " + secrets.token_bytes(200)
    disputed = await api.post(
        f"/api/gateway/payins/{order['id']}/dispute",
        data={"reason": "the customer paid, the trader does not confirm"},
        files={"evidence": ("e.pdf", evidence, "application/pdf")},
        headers=store.headers,
    )
    assert disputed.json()["status"] == "disputed", disputed.text
    admin = create_user(ctx.engine, Role.admin)
    headers = await login(api, admin.email)

    page = await sign_in(browse, live_url, admin.email, f"/admin/orders/{order['id']}")
    links = page.locator("#files li[data-file] a")
    await expect(links).to_have_count(2)
    await expect(links.first).to_contain_text("File from the customer")
    link = links.nth(1)
    await expect(link).to_contain_text("Dispute evidence from the merchant")
    path = await link.get_attribute("href")
    assert path and path.startswith("/files/")
    answer = await page.request.get(f"{live_url}{path}", max_redirects=0)
    assert answer.status == 303 and answer.headers["cache-control"] == "no-store"
    presigned = answer.headers["location"]
    assert "X-Amz-Expires=60" in presigned and "X-Amz-Signature=" in presigned
    async with httpx.AsyncClient() as s3:
        fetched = await s3.get(presigned)
        assert fetched.status_code == 200 and fetched.content == evidence
    file_id = path.rsplit("/", 1)[1]
    audit = (await api.get(f"/api/admin/audit?target_id={file_id}", headers=headers)).json()
    assert [(e["target_type"], e["after"]["order_id"]) for e in audit] == [("Receipt", order["id"])]

    # The order's merchant and trader open it; another merchant, a trader not on it and a
    # Connect user do not (a 404 page: not even whether the file exists).
    allowed = {_owner_email(ctx, store.store_id): 303, _trader_email(ctx, order["id"]): 303}
    refused = {
        create_user(ctx.engine, Role.merchant).email: 404,
        create_user(ctx.engine, Role.trader).email: 404,
        create_user(ctx.engine, Role.connect_user).email: 404,
    }
    for email, status in (allowed | refused).items():
        await browse.clear_cookies()
        shown = await sign_in(browse, live_url, email, "/")
        opened = await shown.goto(f"{live_url}{path}") if status == 404 else None
        if opened is not None:
            assert opened.status == 404 and "File not found" not in presigned
            assert "X-Amz" not in await shown.content()
            await expect(shown.get_by_role("heading", name="Page not found")).to_be_visible()
        else:
            answer = await shown.request.get(f"{live_url}{path}", max_redirects=0)
            assert answer.status == 303 and "X-Amz-Signature=" in answer.headers["location"]
    audit = (await api.get(f"/api/admin/audit?target_id={file_id}", headers=headers)).json()
    assert len(audit) == 3  # the admin's, merchant's and trader's; refusals are not views
