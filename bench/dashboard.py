"""Benchmark GET /api/dashboard against its floor: 20 concurrent clients, a real uvicorn.

    .venv/bin/python bench/dashboard.py [--quick] [--workers N] [--clients 20]

Uses DATABASE_URL when set (it is migrated, and bench users are added), else a scratch
PostgreSQL database from TEST_PG_ADMIN_URL, dropped afterwards. Prepares two users — 3 banks
× 12 months of data, and 3 banks × 5 years (five times the history) — computes their
snapshots, starts uvicorn, then measures, in the same run and the same server:
`GET /api/auth/me` (the authenticated floor: token check and one user row), `GET
/api/dashboard` for the first user, then for the second, in `--rounds` turns (each endpoint's
rps is its requests over its summed time). The load generator speaks plain
HTTP/1.1 keep-alive over asyncio streams so that its own cost stays small next to the
server's. Last line:
RESULT dashboard_rps=… me_rps=… ratio=… dashboard_p99_ms=… history_ratio=…
(ratio = dashboard rps / me rps; history_ratio = dashboard rps with 5× history / with 1×).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlmodel import create_engine

from bench.common import scratch_database, sqlalchemy_url
from bench.dashboard_data import create_user, insert_year_of_data
from connect.snapshots import compute_and_store
from core.migrate import upgrade
from launcher.services import free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway user in a scratch database


def prepare(database_url: str, years: int) -> str:
    """Migrate, add a user with `years` of data at 3 banks, compute the snapshot."""
    upgrade(sqlalchemy_url(database_url))
    engine = create_engine(sqlalchemy_url(database_url))
    email = f"bench-{secrets.token_hex(4)}@example.com"
    user_id = create_user(engine, email, PASSWORD)
    started = time.perf_counter()
    count = insert_year_of_data(engine, user_id, years=years)
    inserted = time.perf_counter()
    compute_and_store(engine, str(user_id), datetime.now(UTC))
    computed = time.perf_counter()
    engine.dispose()
    print(f"data ({years} year(s)): {count} transactions in {inserted - started:.1f}s; ", end="")
    print(f"snapshot computed in {(computed - inserted) * 1000:.0f} ms")
    return email


def start_api(database_url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "development",
        "JWT_SECRET": secrets.token_urlsafe(48),
        # Throughput, not the limits: every limit far above what 20 clients can send.
        "API_RATE_LIMIT": "100000000/minute",
        "IP_RATE_LIMIT": "100000000/minute",
        "USER_RATE_LIMIT": "100000000/minute",
        "LOG_LEVEL": "WARNING",
        "DB_POOL_SIZE": "25",
    }
    env.pop("REDIS_URL", None)
    args = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_default_app"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    args += ["--no-access-log", "--log-level", "warning", "--forwarded-allow-ips", ""]
    return subprocess.Popen(args, cwd=ROOT, env=env)


async def wait_and_login(base: str, email: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(150):
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        login.raise_for_status()
        dashboard = await client.get(
            "/api/dashboard", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        dashboard.raise_for_status()
        assert dashboard.json()["status"] == "ready", dashboard.text
        print(f"dashboard response: {len(dashboard.content)} bytes")
        return str(login.json()["access_token"])


async def client_loop(port: int, request: bytes, budget: list[int], out: list[float]) -> None:
    """One keep-alive connection sending GETs until the shared budget is spent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            length, status = 0, await reader.readline()
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if b" 200 " not in status:
                raise RuntimeError(f"unexpected status {status!r}")
            out.append(time.perf_counter() - started)
    finally:
        writer.close()


async def measure(
    port: int, token: str, clients: int, requests: int, path: str
) -> tuple[list[float], float]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    warmup: list[float] = []
    await asyncio.gather(*(client_loop(port, request, [10], warmup) for _ in range(clients)))
    budget: list[int] = [requests]
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(client_loop(port, request, budget, latencies) for _ in range(clients)))
    return latencies, time.perf_counter() - started


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


@dataclass
class Measured:
    path: str
    latencies: list[float]
    elapsed: float

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed

    def line(self) -> str:
        p50, p99 = percentile(self.latencies, 50) * 1000, percentile(self.latencies, 99) * 1000
        return f"{self.label:<28} {self.rps:>8.0f} rps  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"

    label: str = ""


def run_against(database_url: str, opts: argparse.Namespace, requests: int) -> list[Measured]:
    port, server = free_port(), None
    try:
        base_email, long_email = prepare(database_url, 1), prepare(database_url, 5)
        server = start_api(database_url, port, opts.workers)
        base = f"http://127.0.0.1:{port}"
        base_token = asyncio.run(wait_and_login(base, base_email))
        long_token = asyncio.run(wait_and_login(base, long_email))
        runs = (
            ("/api/auth/me", base_token, "me (floor)"),
            ("/api/dashboard", base_token, "dashboard, 1 year"),
            ("/api/dashboard", long_token, "dashboard, 5 years"),
        )
        # Every endpoint warmed first (pools filled, statements prepared): none pays for it.
        for path, token, _ in runs:
            asyncio.run(measure(port, token, opts.clients, opts.clients * 20, path))
        results = [Measured(path, [], 0.0, label) for path, _, label in runs]
        # Rounds taking turns, so a slow spell of the machine falls on every endpoint alike.
        for _ in range(opts.rounds):
            for (path, token, _), result in zip(runs, results, strict=True):
                share = requests // opts.rounds
                latencies, elapsed = asyncio.run(measure(port, token, opts.clients, share, path))
                result.latencies += latencies
                result.elapsed += elapsed
        return results
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (< 2 minutes)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--requests", type=int, default=None, help="per measured endpoint")
    parser.add_argument("--rounds", type=int, default=6, help="turns the endpoints take")
    opts = parser.parse_args()
    requests = opts.requests or (3_000 if opts.quick else 20_000)
    if not 1 <= opts.rounds <= requests:
        parser.error(f"--rounds must be between 1 and the requests per endpoint ({requests})")
    given = os.environ.get("DATABASE_URL", "")
    with contextlib.ExitStack() as stack:
        database_url = (
            given if given.startswith("postgres") else stack.enter_context(scratch_database())
        )
        me, dashboard, history = run_against(database_url, opts, requests)
    print(f"{requests} requests each, {opts.clients} clients, {opts.workers} uvicorn worker(s)")
    for measured in (me, dashboard, history):
        print(measured.line())
    p99 = percentile(dashboard.latencies, 99) * 1000
    print(
        f"RESULT dashboard_rps={dashboard.rps:.0f} me_rps={me.rps:.0f} "
        f"ratio={dashboard.rps / me.rps:.2f} dashboard_p99_ms={p99:.1f} "
        f"history_ratio={history.rps / dashboard.rps:.2f}"
    )


if __name__ == "__main__":
    main()
