"""Statement bridge benchmark: M pay-ins completed by the bank statement, with no trader action.

A trader connects VBank through Connect (sandbox identity `team042-8` at our bank emulator)
and links a requisite to the synced current account; M pay-ins (concurrency 20) go to that
requisite, each at its own payable amount. Then a credit of each order's exact amount is
booked at the bank, in batches spread over one scan interval of the statement watch (so the
bookings fall at every phase of the scan cycle), and the watch completes the orders.
Measured per order: the bank's booking time of its credit (booked on a whole second, as the
bank states it) → the order's `finished_at` (`completed`).

    python bench/statement.py            # 200 pay-ins; own PostgreSQL db, Temporal dev
                                         # server, SeaweedFS and bank emulator
    python bench/statement.py --quick    # 50 pay-ins, under three minutes
    python bench/statement.py --interval 5   # scan interval (default: the platform's, 15 s)

Prints a table and, last, `RESULT confirm_p50_s=… confirm_p99_s=… orders=… confirmed=…
ledger_sum=…`. Fails loudly unless every order was completed by `bank_statement` and the
ledger balances.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import Session, col, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.payin import CONCURRENCY, Run, pct, run_concurrently  # noqa: E402
from bench.payout import ledger_sum  # noqa: E402
from bench.sync import start_emulator  # noqa: E402
from core.context import ServiceContext  # noqa: E402
from models.banking import BankTransaction  # noqa: E402
from models.statement import StatementCredit  # noqa: E402
from models.users import Role  # noqa: E402
from tests.connect.helpers import ADMIN  # noqa: E402
from tests.factories import actor  # noqa: E402
from tests.processing.bridge_kit import RUB, BridgeTrader, bridge_trader, link  # noqa: E402

BANK = "vbank"
SLOT = 8  # the trader's sandbox identity: team042-8
BANKS = ("vbank", "abank", "sbank")
POLL_S = 0.5


@dataclass
class PayIn:
    id: str
    amount: str
    transaction_id: str = ""
    booked_at: datetime | None = None  # booked on this whole second; checked against the DB
    decided_at: datetime | None = None  # the statement credit recorded by a scan
    finished_at: datetime | None = None


def configure_platform(emulator: str, interval: int | None) -> None:
    """The stack's Settings come from the environment for what bench/local_stack.py leaves
    unset: banks at our emulator, and the scan interval when asked for."""
    os.environ["BANK_BASE_URLS"] = json.dumps({b: f"{emulator}/{b}" for b in BANKS})
    os.environ["LOG_LEVEL"] = "WARNING"
    if interval is not None:
        os.environ["STATEMENT_WATCH_INTERVAL_SECONDS"] = str(interval)


async def gather_limited(calls: Iterable[Callable[[], Awaitable[None]]]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def guarded(call: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await call()

    await asyncio.gather(*(guarded(call) for call in calls))


async def set_up_trader(
    api: httpx.AsyncClient, ctx: ServiceContext, admin: dict[str, str]
) -> BridgeTrader:
    """The bridge trader (onboarded at VBank, requisite linked) with room for every order."""
    kit = await bridge_trader(api, ctx, slot=SLOT, bank=BANK, sub_type="Checking")
    linked = await link(api, kit)
    if linked.status_code != 200:
        raise RuntimeError(f"link answered {linked.status_code}: {linked.text[:300]}")
    limits = await api.patch(
        f"/api/admin/requisites/{kit.requisite_id}/limits",
        json={"max_open_orders": 100_000},
        headers=admin,
    )
    limits.raise_for_status()
    return kit


async def create_payins(
    api: httpx.AsyncClient, store_key: str, kit: BridgeTrader, m: int
) -> tuple[list[PayIn], Run]:
    store, orders = {"X-API-Key": store_key}, []

    async def one(i: int, run: Run) -> None:
        body = {
            "amount": f"{1000 + 3 * i}.37",  # apart by more than the store's shift bounds
            "currency": RUB,
            "merchant_order_id": f"bench-st-{uuid.uuid4().hex}",
            "bank_code": kit.platform_bank,
        }
        started = asyncio.get_running_loop().time()
        created = await api.post("/api/gateway/payins", json=body, headers=store)
        run.create_ms.append((asyncio.get_running_loop().time() - started) * 1000)
        if created.status_code != 201:
            raise RuntimeError(f"create answered {created.status_code}: {created.text[:300]}")
        order = created.json()
        if order["status"] != "awaiting_payment":
            raise RuntimeError(f"order {order['id']} is {order['status']}")
        orders.append(PayIn(order["id"], order["amount"]))

    run = await run_concurrently(m, one)
    if len({o.amount for o in orders}) != len(orders):
        raise RuntimeError("two open orders share a payable amount")
    return orders, run


async def next_second() -> datetime:
    """Sleep to the next whole second and return it: banks state bookings to the second."""
    now = datetime.now(UTC)
    at = now.replace(microsecond=0) + timedelta(seconds=1)
    await asyncio.sleep((at - now).total_seconds())
    return at


async def book_credits(
    ctx: ServiceContext, kit: BridgeTrader, orders: list[PayIn], batches: int, spread_s: float
) -> None:
    """Credits of the orders' amounts booked at the bank, `batches` admin calls spread over
    `spread_s` (one scan interval), each booked at the second the call is made."""
    emulator = ctx.settings.bank_base_urls[BANK].rsplit("/", 1)[0]
    size = -(-len(orders) // batches)
    async with httpx.AsyncClient(base_url=emulator, timeout=30) as http:
        for k in range(0, len(orders), size):
            if k:
                await asyncio.sleep(max(0.0, spread_s / batches - 1))
            chunk, at = orders[k : k + size], await next_second()
            items = [
                {
                    "amount": order.amount,
                    "credit_debit_indicator": "Credit",
                    "information": f"SBP transfer {order.id[:8]}",
                    "counterparty": "Bench Payer",
                    "booking_date_time": at.isoformat(),
                }
                for order in chunk
            ]
            body = {
                "client_id": kit.client_id,
                "account_id": kit.account_external_id,
                "transactions": items,
            }
            answer = await http.post(f"/{BANK}/admin/transactions", json=body, headers=ADMIN)
            answer.raise_for_status()
            ids = answer.json()["transaction_ids"]
            for order, transaction_id in zip(chunk, ids, strict=True):
                order.transaction_id, order.booked_at = transaction_id, at


async def wait_completed(
    api: httpx.AsyncClient, store_key: str, orders: list[PayIn], limit_s: float
) -> None:
    """Poll the gateway like the merchant until every order is completed (or the limit)."""
    store = {"X-API-Key": store_key}
    deadline = asyncio.get_running_loop().time() + limit_s

    def check(order: PayIn) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            view = (await api.get(f"/api/gateway/payins/{order.id}", headers=store)).json()
            if view["status"] == "completed":
                order.finished_at = datetime.fromisoformat(view["finished_at"])
            elif view["status"] != "awaiting_payment":
                raise RuntimeError(f"order {order.id} went {view['status']}")

        return call

    while pending := [o for o in orders if o.finished_at is None]:
        if asyncio.get_running_loop().time() > deadline:
            print(f"  {len(pending)} orders still open after {limit_s:.0f}s", file=sys.stderr)
            return
        await gather_limited(check(o) for o in pending)
        await asyncio.sleep(POLL_S)


def bank_side(ctx: ServiceContext, orders: list[PayIn]) -> None:
    """What the platform stored from the bank: the booking time of each credit as the bank
    stated it (it must be the one we booked), and when a scan decided it."""
    by_tx = {o.transaction_id: o for o in orders}
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(BankTransaction, StatementCredit)
            .join(StatementCredit, col(StatementCredit.transaction_id) == BankTransaction.id)
            .where(
                BankTransaction.bank_code == BANK,
                col(BankTransaction.external_id).in_(list(by_tx)),
            )
        ).all()
    for tx, credit in rows:
        order = by_tx[tx.external_id]
        stated = tx.booked_at if tx.booked_at.tzinfo else tx.booked_at.replace(tzinfo=UTC)
        if stated != order.booked_at:
            raise RuntimeError(f"{tx.external_id}: bank states {stated}, booked {order.booked_at}")
        decided = credit.created_at
        order.decided_at = decided if decided.tzinfo else decided.replace(tzinfo=UTC)


async def confirmed_by_statement(
    api: httpx.AsyncClient, admin: dict[str, str], orders: list[PayIn]
) -> list[str]:
    """Orders whose last transition is not `completed` by actor `bank_statement`."""
    wrong: list[str] = []

    def check(order: PayIn) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            timeline = await api.get(f"/api/admin/orders/{order.id}/timeline", headers=admin)
            last = timeline.json()[-1]
            if (last["to_status"], last["actor_type"]) != ("completed", "bank_statement"):
                wrong.append(f"{order.id}: {last['to_status']} by {last['actor_type']}")

        return call

    await gather_limited(check(o) for o in orders if o.finished_at is not None)
    return wrong


def seconds(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> list[float]:
    return [(end - start).total_seconds() for start, end in pairs if start and end]


def scan_sizes(orders: list[PayIn]) -> list[int]:
    """Credits decided per scan (a scan decides its credits within milliseconds)."""
    sizes: list[int] = []
    last: datetime | None = None
    for at in sorted(o.decided_at for o in orders if o.decided_at):
        if last is None or (at - last).total_seconds() > 0.5:
            sizes.append(0)
        sizes[-1], last = sizes[-1] + 1, at
    return sizes


def report(
    orders: list[PayIn], created: Run, interval: int, batches: int, total: int
) -> list[float]:
    confirm = seconds((o.booked_at, o.finished_at) for o in orders)
    stages = [
        ("booked → scan decided", seconds((o.booked_at, o.decided_at) for o in orders)),
        ("scan decided → completed", seconds((o.decided_at, o.finished_at) for o in orders)),
        ("booked → completed", confirm),
    ]
    done = sum(o.finished_at is not None for o in orders)
    print(f"\n{'statement_watch_interval_seconds':34} {interval} s")
    print(f"{'pay-ins created / failed':34} {len(orders)} / {created.failures}")
    print(f"{'create p50 / p99':34} {pct(created.create_ms, 0.5):.1f} / ", end="")
    print(f"{pct(created.create_ms, 0.99):.1f} ms")
    print(f"{'credits booked':34} {len(orders)} in {batches} batches over ~{interval} s")
    sizes = scan_sizes(orders)
    print(f"{'scans that decided them':34} {len(sizes)} ({' + '.join(map(str, sizes))})")
    print(f"{'completed by the statement':34} {done}")
    print(f"{'ledger sum':34} {total}")
    head = ("n", "min", "p50", "p90", "p99", "max")
    print("\n" + " " * 26 + " ".join(f"{h:>7}" for h in head))
    for name, values in stages:
        figures = [min(values, default=float("nan"))]
        figures += [pct(values, q) for q in (0.5, 0.9, 0.99)]
        figures += [max(values, default=float("nan"))]
        print(f"{name:26}{len(values):7d} " + " ".join(f"{v:6.2f}s" for v in figures))
    return confirm


async def run(m: int, interval: int | None, batches: int) -> None:
    from bench.local_stack import local_stack

    log_dir = Path(tempfile.gettempdir()) / f"jivapay-bench-statement-{uuid.uuid4().hex[:6]}"
    emulator, url = start_emulator(1, log_dir)
    try:
        configure_platform(url, interval)
        async with local_stack() as (api, key, _traders, _client, _db):
            ctx: ServiceContext = api._transport.app.state.ctx  # type: ignore[attr-defined]
            scan_s = ctx.settings.statement_watch_interval_seconds
            admin = (await actor(api, ctx.engine, Role.admin)).headers
            print("connecting the trader's bank (onboarding, link)…", flush=True)
            kit = await set_up_trader(api, ctx, admin)
            print(f"{m} pay-ins at concurrency {CONCURRENCY}…", flush=True)
            orders, created = await create_payins(api, key, kit, m)
            print(f"booking {len(orders)} credits at {BANK} (scan every {scan_s} s)…", flush=True)
            await book_credits(ctx, kit, orders, batches, scan_s)
            await wait_completed(api, key, orders, limit_s=3 * scan_s + 60)
            await asyncio.to_thread(bank_side, ctx, orders)
            wrong = await confirmed_by_statement(api, admin, orders)
            total = await asyncio.to_thread(ledger_sum, api)
    finally:
        emulator.stop()  # type: ignore[attr-defined]
    confirm = report(orders, created, scan_s, batches, total)
    done = len(confirm)
    print(
        f"RESULT confirm_p50_s={pct(confirm, 0.5):.2f} confirm_p99_s={pct(confirm, 0.99):.2f} "
        f"orders={len(orders)} confirmed={done} ledger_sum={total}"
    )
    problems: list[str] = []
    if total != 0:
        problems.append(f"ledger sum {total}")
    if created.failures or done != m:
        problems.append(f"{m - done} of {m} pay-ins not completed")
    problems += [f"not by the statement: {w}" for w in wrong]
    if problems:
        raise SystemExit("; ".join(problems[:10]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="50 pay-ins instead of 200")
    parser.add_argument("-m", type=int, default=None, help="number of pay-ins")
    parser.add_argument(
        "--interval", type=int, default=None, help="statement_watch_interval_seconds"
    )
    parser.add_argument("--batches", type=int, default=5, help="admin calls booking credits")
    args = parser.parse_args()
    m: int = args.m or (50 if args.quick else 200)
    asyncio.run(run(m, args.interval, max(1, min(args.batches, m))))


if __name__ == "__main__":
    main()
