"""The emulator as a real server (`python -m bank_emulator` on a free port) for client tests.

Every test starts from reset banks, and gets clients with tiny backoff so storms stay fast.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from banks import BankClient, InMemoryRawLogSink, RetryPolicy
from tests.bank_client.helpers import BANKS, SECRET, EmulatorAdmin
from tests.conftest import emulator_server

FAST_RETRY = RetryPolicy(max_attempts=6, base_delay_s=0.01, max_delay_s=0.05, max_total_s=10)


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An emulator of its own, pinned to a fixed anchor date and seed for exact data."""
    env = {"BANK_EMULATOR_ANCHOR_DATE": "2025-06-15", "BANK_EMULATOR_SEED": "42"}
    with emulator_server(tmp_path_factory.mktemp("bank-emulator"), env) as url:
        yield url


@pytest.fixture
async def admin(emulator_url: str) -> AsyncIterator[EmulatorAdmin]:
    """Admin controls, with every bank reset before the test."""
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as http:
        controls = EmulatorAdmin(http)
        for bank in BANKS:
            await controls.reset(bank)
        yield controls


@pytest.fixture
def sink() -> InMemoryRawLogSink:
    return InMemoryRawLogSink()


@pytest.fixture
async def make_client(
    emulator_url: str, admin: EmulatorAdmin, sink: InMemoryRawLogSink
) -> AsyncIterator[Callable[..., BankClient]]:
    """Build clients of the running emulator (closed after the test); kwargs override."""
    clients: list[BankClient] = []

    def build(bank: str, **overrides: Any) -> BankClient:
        options: dict[str, Any] = {"retry": FAST_RETRY, "log_sink": sink, "max_concurrency": 8}
        client = BankClient(
            bank, f"{emulator_url}/{bank}", "team042", SECRET, **{**options, **overrides}
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()
