"""A real browser against the real app: headless Chromium from the distribution's packages,
driven by Playwright, on a uvicorn server the suite starts (same app, same services).

A failing test leaves a screenshot of every open page in its temporary folder.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium dials Google's hosts, refused here.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        await launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[Any]:
    report: Any = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
async def browse(
    browser: Browser, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile (its own cookies) per test; screenshots on failure."""
    context = await browser.new_context(viewport={"width": 412, "height": 915})
    context.set_default_timeout(15_000)
    yield context
    if request.node.stash.get(FAILED, False):
        for index, page in enumerate(context.pages):
            await page.screenshot(path=tmp_path / f"page-{index}.png", full_page=True)
        print(f"screenshots in {tmp_path}")
    await context.close()
