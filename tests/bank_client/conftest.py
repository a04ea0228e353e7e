"""The emulator as a real server (`python -m bank_emulator` on a free port) for client tests.

Every test starts from reset banks, and gets clients with tiny backoff so storms stay fast.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from activities.bank_client import BankClient, InMemoryRawLogSink, RetryPolicy
from tests.bank_client.helpers import BANKS, SECRET, EmulatorAdmin

ROOT = Path(__file__).resolve().parents[2]
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay_s=0.01, max_delay_s=0.05, max_total_s=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"emulator exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError("emulator did not become healthy")


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "BANK_EMULATOR_ANCHOR_DATE": "2025-06-15", "BANK_EMULATOR_SEED": "42"}
    log_path = tmp_path_factory.mktemp("bank-emulator") / "emulator.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bank_emulator",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


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
