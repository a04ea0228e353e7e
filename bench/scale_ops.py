"""The operations bench/scale.py measures, and how: one call of each, timed.

Two kinds. A *constant* operation's answer does not grow with the tables (a create, point
reads, first pages, the deep keyset page, the desk, a statement page, the overview, the
reconciler's pass, a dashboard): its latency is compared between the databases. A *growing*
operation's answer grows with the data asked for (a month's CSV, a report over a period, the
heavy user's snapshot): its time to first byte and rows per second are compared instead.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.client import Client

from connect.snapshots import compute_and_store
from contracts.reconcile import ReconcileInput
from core.context import ServiceContext
from processing.funds import sweep
from processing.orders import pending
from processing.orders import reconcile as orphans


@dataclass
class Call:
    """One timed call: total time, time to the first byte, rows answered."""

    total_ms: float
    ttfb_ms: float
    rows: int = 0


@dataclass
class Op:
    name: str
    growing: bool
    run: Callable[[int], Awaitable[Call]]
    repeats: int
    calls: list[Call] = field(default_factory=list)
    seq_scans: dict[str, int] = field(default_factory=dict)
    rss_growth_mb: float = 0.0
    # False for work nobody waits on a first byte of (a background rebuild, whose result a
    # user reads later from a constant page): judged by its rows per second only.
    first_byte: bool = True


class RssSampler:
    """Peak resident memory of this process (the API serves from it) while a block runs."""

    def __init__(self) -> None:
        self.peak = self.start = self.now()
        self._stop = threading.Event()

    @staticmethod
    def now() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096

    @contextmanager
    def sampling(self) -> Iterator[None]:
        def sample() -> None:
            while not self._stop.wait(0.02):
                self.peak = max(self.peak, self.now())

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join()
            self.peak = max(self.peak, self.now())


async def timed_get(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Call:
    """A GET read to its end as a stream: the time to the first data (for a CSV the first
    row after the header line, which a stream can send before any query), the total, the
    lines."""
    started = time.perf_counter()
    first, lines = 0.0, 0
    async with http.stream("GET", url, headers=headers) as answer:
        header_lines = int(answer.headers.get("content-type", "").startswith("text/csv"))
        async for chunk in answer.aiter_raw():
            lines += chunk.count(b"\n")
            if not first and lines > header_lines:
                first = time.perf_counter()
        if answer.status_code != 200:
            raise RuntimeError(f"GET {url} answered {answer.status_code}")
    end = time.perf_counter()
    return Call((end - started) * 1000, ((first or end) - started) * 1000, lines)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Subject:
    """Who and what the operations act on, in one database."""

    http: httpx.AsyncClient
    ctx: ServiceContext
    client: Client
    store_key: str
    store_id: uuid.UUID
    tokens: dict[str, str]  # merchant, trader, admin, ordinary, heavy
    ordinary_user: uuid.UUID
    heavy_user: uuid.UUID
    heavy_rows: int
    point_order: tuple[str, str]  # an order id and its merchant_order_id (store 0)
    deep_cursor: str | None = None
    report_rows: int = 0
    statement_limit: int = 200


async def statement_lines(s: Subject, limit: int) -> int:
    """How many lines the store's first statement page holds at `limit`."""
    url = f"/api/merchant/stores/{s.store_id}/statement?limit={limit}"
    answer = await s.http.get(url, headers=bearer(s.tokens["merchant"]))
    answer.raise_for_status()
    return len(answer.json()["lines"])


async def find_deep_cursor(s: Subject, depth: int) -> tuple[str | None, int]:
    """The cursor of the page `depth` rows deep (or the last page, in a database with fewer
    rows), followed page by page (the keyset); how deep it is."""
    cursor, seen, largest = None, 0, 500
    while seen < depth:
        step = min(largest, depth - seen)
        query = f"/api/merchant/orders?limit={step}" + (f"&cursor={cursor}" if cursor else "")
        page = (await s.http.get(query, headers=bearer(s.tokens["merchant"]))).json()
        if not page["next_cursor"]:
            if largest == 50:
                break
            largest = 50  # near the end: smaller steps, to stop on the last full page
            continue
        cursor, seen = page["next_cursor"], seen + step
    return cursor, seen


def month_window() -> str:
    end = datetime.now(UTC)
    start = end - timedelta(days=30)
    return f"created_from={start.isoformat()}&created_to={end.isoformat()}".replace("+", "%2B")


def operations(s: Subject, n: int) -> list[Op]:
    """Every measured operation, in the order they run: `n` calls of a constant one."""
    few = max(2, min(3, n // 5))
    merchant, admin = bearer(s.tokens["merchant"]), bearer(s.tokens["admin"])
    counter = iter(range(10**9))

    async def create(_: int) -> Call:
        i = next(counter)
        body = {
            "amount": f"{700 + (i % 997) + (uuid.uuid4().int % 100) / 100:.2f}",
            "currency": "RUB",
            "merchant_order_id": f"scale-{uuid.uuid4().hex}",
        }
        started = time.perf_counter()
        answer = await s.http.post(
            "/api/gateway/payins", json=body, headers={"X-API-Key": s.store_key}
        )
        took = (time.perf_counter() - started) * 1000
        if answer.status_code != 201:
            raise RuntimeError(f"create answered {answer.status_code}: {answer.text[:300]}")
        return Call(took, took, 1)

    def get(url: str, headers: dict[str, str]) -> Callable[[int], Awaitable[Call]]:
        return lambda _: timed_get(s.http, url, headers)

    async def deep(_: int) -> Call:
        cursor = f"&cursor={s.deep_cursor}" if s.deep_cursor else ""
        return await timed_get(s.http, f"/api/merchant/orders?limit=50{cursor}", merchant)

    async def reconcile(_: int) -> Call:
        # The three steps of the reconciler activity (activities/processing.py
        # `fail_orphans`), called as it calls them: a bench never imports activities.
        inp = ReconcileInput(grace_seconds=300, limit=200)
        started = time.perf_counter()
        await orphans.fail_orphans(s.ctx.engine, s.client, inp, s.ctx.settings)
        await sweep.start_stranded(s.ctx, s.client, inp.grace_seconds, inp.limit)
        await pending.resend_lost(s.ctx.engine, s.client, inp.limit)
        took = (time.perf_counter() - started) * 1000
        return Call(took, took, 0)

    def rebuild(user: uuid.UUID, rows: int) -> Callable[[int], Awaitable[Call]]:
        async def run(_: int) -> Call:
            started = time.perf_counter()
            await asyncio.to_thread(compute_and_store, s.ctx.engine, str(user), datetime.now(UTC))
            took = (time.perf_counter() - started) * 1000
            return Call(took, took, rows)

        return run

    order_id, merchant_order_id = s.point_order
    store = {"X-API-Key": s.store_key}
    today = datetime.now(UTC).date()
    report = (
        f"/api/admin/reports/turnover?from={today - timedelta(days=30)}&to={today}"
        "&group_by=store&format=csv"
    )
    admin_page = {"Cookie": f"jivapay_session={s.tokens['admin']}"}
    csv = f"/api/merchant/orders.csv?{month_window()}"

    async def turnover(_: int) -> Call:
        # Rows per second of a report: the postings of its period, not its aggregated lines.
        call = await timed_get(s.http, report, admin)
        return Call(call.total_ms, call.ttfb_ms, s.report_rows)

    return [
        Op("pay-in create (match)", False, create, n),
        Op("pay-in by id", False, get(f"/api/gateway/payins/{order_id}", store), n),
        Op(
            "pay-in by merchant_order_id",
            False,
            get(f"/api/gateway/payins/by-merchant-order/{merchant_order_id}", store),
            n,
        ),
        Op("trader desk orders", False, get("/api/trader/orders", bearer(s.tokens["trader"])), n),
        Op("merchant orders page 1", False, get("/api/merchant/orders?limit=50", merchant), n),
        Op("merchant orders 10k deep", False, deep, n),
        Op("merchant callbacks", False, get("/api/merchant/callbacks?limit=100", merchant), n),
        Op(
            "statement page",
            False,
            get(
                f"/api/merchant/stores/{s.store_id}/statement?limit={s.statement_limit}",
                merchant,
            ),
            n,
        ),
        Op("admin overview", False, get("/admin", admin_page), n),
        Op("orphan reconciler pass", False, reconcile, max(5, n // 4)),
        Op("dashboard (ordinary)", False, get("/api/dashboard", bearer(s.tokens["ordinary"])), n),
        Op("dashboard rebuild (ordinary)", False, rebuild(s.ordinary_user, 0), max(5, n // 4)),
        Op("dashboard (heavy)", False, get("/api/dashboard", bearer(s.tokens["heavy"])), n),
        Op(
            "transactions (heavy)",
            False,
            get("/api/transactions?page_size=50", bearer(s.tokens["heavy"])),
            n,
        ),
        Op("merchant CSV, one month", True, get(csv, merchant), few),
        Op("turnover report, 30 days", True, turnover, few),
        # A Temporal activity after each sync: no one waits on its first byte (the user
        # reads the stored result, "dashboard (heavy)" above); its rows per second count.
        Op(
            "snapshot rebuild (heavy)",
            True,
            rebuild(s.heavy_user, s.heavy_rows),
            few,
            first_byte=False,
        ),
    ]
