"""The Connect app as a person uses it, on a desktop and on a 390 × 844 phone: the analysis
shows as soon as one bank is ready (a bank awaiting approval does not hold it back) and
without a reload; a bank can be disconnected; "delete my data" leaves nothing behind."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select as select_rows
from sqlmodel import Session, SQLModel, select
from temporalio.client import Client
from temporalio.service import RPCError

from contracts.connect import onboarding_workflow_id
from core.context import ServiceContext
from models.banking import BankAccount
from models.connect import Consent, ConsentKind, ConsentStatus
from models.users import Role, SandboxIdentity, User
from tests.connect.helpers import bank_answers, wait_until
from tests.factories import PASSWORD, create_user
from tests.web.test_pages import sign_in

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


# Each test's sandbox identity per screen size (the banks hold one consent per identity).
SLOTS = {
    "pending": {"desktop": 5, "phone": 10},  # both hold a savings account
    "disconnect": {"desktop": 4, "phone": 6},
    "delete": {"desktop": 8, "phone": 1},
}


@pytest.fixture(params=sorted(SIZES))
async def sized(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport=SIZES[request.param])  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    context.size = request.param  # type: ignore[attr-defined]
    yield context
    await context.close()


def slot_of(test: str, context: BrowserContext) -> int:
    return SLOTS[test][context.size]  # type: ignore[attr-defined]


async def stop_onboarding(client: Client, user_id: uuid.UUID) -> None:
    """A consent left awaiting approval would keep its workflow polling after the test."""
    handle = client.get_workflow_handle(onboarding_workflow_id(str(user_id)))
    with contextlib.suppress(RPCError):  # finished already
        await handle.terminate("test over")


async def connect(page: Page, banks: set[str], sign: bool) -> None:
    for code in ("vbank", "abank", "sbank"):
        await (page.check if code in banks else page.uncheck)(f"input[value={code}]")
    await (page.check if sign else page.uncheck)("input[name=sandbox_sign]")
    await page.click("form.connect button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/app\?watch="))


async def test_a_pending_bank_does_not_hold_back_the_dashboard_nor_needs_a_reload(
    ctx: ServiceContext,
    worker: None,
    temporal_client: Client,
    live_url: str,
    sized: BrowserContext,
    bank_emulator: str,
) -> None:
    slot = slot_of("pending", sized)
    user = create_user(ctx.engine, Role.connect_user, external_client_id=f"team042-{slot}")
    page = await sign_in(sized, live_url, user.email, "/app")
    try:
        # VBank approves at once; SBank waits for the person's approval in its own app.
        await connect(page, {"vbank", "sbank"}, sign=False)
        # Set on this document: a reload or a navigation would lose it.
        await page.evaluate("window.sameDocument = true")
        waiting = page.locator("li[data-bank=sbank][data-status=consent_pending]")
        await expect(waiting).to_contain_text("waiting for your approval", timeout=60_000)
        await expect(page.locator("#safe-to-spend")).to_be_visible(timeout=90_000)
        # Still waiting, and the dashboard came in by itself.
        await expect(waiting).to_have_count(1)
        assert await page.evaluate("window.sameDocument") is True
        # While SBank still waits, the board polls for a newer analysis: the one shown is
        # the newest, so nothing is swapped (204), and a newer one would be.
        shown = await page.get_attribute("#board", "data-snapshot")
        assert shown
        again = await page.request.get(f"{live_url}/app/board?shown={shown}")
        assert again.status == 204
        newer = await page.request.get(f"{live_url}/app/board?shown=older")
        assert newer.status == 200 and "safe-to-spend" in await newer.text()

        text = await page.locator("main").inner_text()
        for internal in ("rent_utilities", "DSTI", "acc-", "_"):
            assert internal not in text, internal
        await expect(page.locator("#accounts li").first).to_contain_text("VBank · ")
        await expect(page.locator("#debt-share")).to_contain_text(
            re.compile(r"Debt payments|could not")
        )
        # "How we got this": the accounts counted, what is subtracted; savings left out.
        await page.click("#how-we-got-this summary")
        steps = page.locator("#how-we-got-this")
        await expect(steps).to_contain_text("minus Safety buffer")
        await expect(steps).to_contain_text("Bills and loan payments due before")
        await expect(page.locator("#not-counted")).to_contain_text("VBank · Накопительный счёт")
        # Charts drawn on the server (pygal SVG, no scripts): the health gauge with its parts,
        # the 30 days with the lowest day marked, spending by month, the loan paid and left.
        for chart in ("#health-chart", "#forecast-chart", "#spending-chart", "#debts-chart"):
            await expect(page.locator(f"{chart} svg")).to_have_count(1)
        await expect(page.locator("#health-chart svg")).to_contain_text("Bills paid on time")
        await expect(page.locator("#forecast-chart svg")).to_contain_text("Lowest:")
        await expect(page.locator("#debts-chart svg")).to_contain_text("Left")
        assert await page.locator("#board script").count() == 0
        # Thousands are grouped: no run of four digits before the decimal point.
        big = await page.locator("#safe-to-spend .big").inner_text()
        assert not re.search(r"\d{4}\.\d\d", big), big
    finally:
        await stop_onboarding(temporal_client, user.id)


OneBank = Callable[[str], Awaitable[tuple[User, Page, int]]]


@pytest.fixture
def one_bank(
    ctx: ServiceContext, worker: None, live_url: str, sized: BrowserContext, bank_emulator: str
) -> OneBank:
    """A person with VBank connected, on their dashboard (the identity by test and size)."""

    async def open_app(test: str) -> tuple[User, Page, int]:
        slot = slot_of(test, sized)
        user = create_user(ctx.engine, Role.connect_user, external_client_id=f"team042-{slot}")
        page = await sign_in(sized, live_url, user.email, "/app")
        await connect(page, {"vbank"}, sign=False)
        await expect(page.locator("#safe-to-spend")).to_be_visible(timeout=90_000)
        return user, page, slot

    return open_app


def _accounts(ctx: ServiceContext, user_id: uuid.UUID, bank: str) -> list[BankAccount]:
    with Session(ctx.engine) as session:
        query = select(BankAccount).where(
            BankAccount.user_id == user_id, BankAccount.bank_code == bank
        )
        return list(session.exec(query))


async def test_disconnecting_a_bank_revokes_it_there_and_deletes_its_data(
    ctx: ServiceContext, one_bank: OneBank
) -> None:
    user, page, slot = await one_bank("disconnect")
    assert _accounts(ctx, user.id, "vbank")
    assert await bank_answers(ctx, "vbank", f"team042-{slot}") == 200
    await page.click("li[data-bank=vbank] form.disconnect button")
    await expect(page.locator(".flash.notice")).to_contain_text("VBank disconnected")
    assert _accounts(ctx, user.id, "vbank") == []
    await expect(page.locator("#safe-to-spend")).to_have_count(0)
    await expect(page.locator("li[data-bank=vbank]")).to_contain_text(
        "not connected", timeout=30_000
    )

    def revoked() -> bool:
        with Session(ctx.engine) as session:
            query = select(Consent.status).where(
                Consent.user_id == user.id,
                Consent.bank_code == "vbank",
                Consent.kind == ConsentKind.accounts,
            )
            return list(session.exec(query)) == [ConsentStatus.revoked]

    await wait_until(revoked, 30, "the consent revoked")
    assert await bank_answers(ctx, "vbank", f"team042-{slot}") == 403


def _traces(ctx: ServiceContext, user: User) -> list[str]:
    """Every table in the metadata, every row: where the user's id or email still shows."""
    needles = {str(user.id), user.id.hex, user.email}
    found = []
    with Session(ctx.engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(select_rows(table)):
                text = " ".join(str(value) for value in row)
                if any(needle in text for needle in needles):
                    found.append(f"{table.name}: {text[:120]}")
    return found


async def test_delete_my_data_asks_for_the_password_and_leaves_nothing_behind(
    ctx: ServiceContext, one_bank: OneBank, live_url: str
) -> None:
    user, page, slot = await one_bank("delete")
    assert len(_traces(ctx, user)) > 10
    form = page.locator("#delete-my-data")
    await form.locator("input[name=password]").fill("not my password")
    await form.locator("button").click()
    await expect(page.locator(".flash.error")).to_contain_text("password is not right")
    assert _accounts(ctx, user.id, "vbank")

    await form.locator("input[name=password]").fill(PASSWORD)
    await form.locator("button").click()
    await expect(page).to_have_url(re.compile(r"/login"))
    assert _traces(ctx, user) == []
    with Session(ctx.engine) as session:
        identity = session.get(SandboxIdentity, f"team042-{slot}")
        assert identity is not None and identity.user_id is None
    assert await bank_answers(ctx, "vbank", f"team042-{slot}") == 403
    # The account is gone: signing in again is refused.
    async with httpx.AsyncClient(base_url=live_url) as http:
        answer = await http.post(
            "/api/auth/login", json={"email": user.email, "password": PASSWORD}
        )
    assert answer.status_code == 401


async def test_the_profile_shows_the_phone_and_the_sign_in_before_this_one(
    ctx: ServiceContext, live_url: str, sized: BrowserContext
) -> None:
    user = create_user(ctx.engine, Role.connect_user)
    async with httpx.AsyncClient(base_url=live_url) as http:
        earlier = await http.post(
            "/api/auth/login", json={"email": user.email, "password": PASSWORD}
        )
        assert earlier.status_code == 200, earlier.text
    with Session(ctx.engine) as session:
        first = session.get(User, user.id)
        assert first is not None and first.last_login_at is not None
        first_sign_in = first.last_login_at

    page = await sign_in(sized, live_url, user.email, "/app")
    await page.click("#profile-link")
    await expect(page.locator("h1")).to_have_text("Profile")
    shown = f"{first_sign_in:%-d %B %Y, %H:%M} UTC"
    await expect(page.locator("#last-login")).to_have_text(shown)
    await expect(page.locator("#phone")).to_have_text("not given")

    await page.fill("#phone-input", "912 345")
    await page.click("#phone-form button")
    await expect(page.locator(".flash.error")).to_contain_text("with + and the country code")
    await page.fill("#phone-input", "+7 912 345-67-89")
    await page.click("#phone-form button")
    await expect(page.locator(".flash.notice")).to_have_text("Phone number saved")
    await expect(page.locator("#phone")).to_have_text("+79123456789")
    # A reload shows the same page, it does not save again.
    await page.reload()
    await expect(page.locator("#phone")).to_have_text("+79123456789")
