"""The emulator in-process (ASGI transport), fresh state per test, pinned anchor date."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bank_emulator.app import create_emulator_app
from tests.bank_emulator.helpers import settings


@pytest.fixture
async def emulator() -> AsyncIterator[httpx.AsyncClient]:
    app = create_emulator_app(settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        yield client
