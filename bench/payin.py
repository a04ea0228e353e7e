"""Pay-in benchmark: M pay-ins end to end (create → paid → trader confirm) at concurrency 20,
against two workflows run the same way on the same Temporal server and worker layout:

- the **floor**: the least Temporal work any pay-in needs (update-with-start that answers at
  once, two updates, completion; no activities, timers, search attributes or children);
- the **same shape**: the pay-in's workflow with empty activities (no DB, S3 or HTTP).

    python bench/payin.py            # own PostgreSQL db, Temporal dev server, SeaweedFS
    python bench/payin.py --quick    # 200 orders, under three minutes
    python bench/payin.py --url http://127.0.0.1:8000   # a running `make run` platform

The store's callbacks go to a local receiver. Afterwards the ledger and the callbacks are
checked (Σ entries = 0; per completed order one settlement and one delivered callback); the
run fails loudly otherwise. Prints a table and, last, `RESULT payin_per_s=… floor_per_s=…
ratio=… create_p50_ms=… floor_create_p50_ms=… create_ratio=… same_shape_ratio=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bare_payin import BareInput, BarePayinWorkflow, FloorPayinWorkflow  # noqa: E402
from bench.cpu import CpuMeter, cpu_table  # noqa: E402
from bench.worker_process import bare_worker, worker_process  # noqa: E402

CONCURRENCY = 20


@dataclass
class Run:
    create_ms: list[float] = field(default_factory=list)
    e2e_ms: list[float] = field(default_factory=list)
    failures: int = 0
    wall_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per component

    def per_s(self) -> float:
        return len(self.e2e_ms) / self.wall_s if self.wall_s else 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run_concurrently(m: int, one: Callable[[int, Run], Awaitable[None]]) -> Run:
    run, gate = Run(), asyncio.Semaphore(CONCURRENCY)

    async def guarded(i: int) -> None:
        async with gate:
            try:
                await one(i, run)
            except Exception as exc:  # a failed order is counted, not fatal to the run
                run.failures += 1
                print(f"  order {i} failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    started = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(m)))
    run.wall_s = time.perf_counter() - started
    return run


async def bench_payins(api: httpx.AsyncClient, store_key: str, traders: list[dict], m: int) -> Run:
    store = {"X-API-Key": store_key}
    # Whose requisite is whose, learned from the first confirm on it: a trader's app knows its
    # own orders, so each confirm goes to the owner (not a 404 from the other traders).
    owners: dict[str, dict] = {}

    async def one(i: int, run: Run) -> None:
        started = time.perf_counter()
        body = {
            "amount": f"{100 + (i % 400) * 0.25:.2f}",
            "currency": "RUB",
            "merchant_order_id": f"bench-{uuid.uuid4().hex}",
        }
        created = await api.post("/api/gateway/payins", json=body, headers=store)
        run.create_ms.append((time.perf_counter() - started) * 1000)
        if created.status_code != 201:
            raise RuntimeError(f"create answered {created.status_code}: {created.text[:300]}")
        order_id, number = created.json()["id"], created.json()["requisite"]["number"]
        (await api.post(f"/api/gateway/payins/{order_id}/paid", headers=store)).raise_for_status()
        known = owners.get(number)
        for headers in [known] if known else traders:  # others' orders answer 404
            done = await api.post(f"/api/trader/orders/{order_id}/confirm", headers=headers)
            if done.status_code == 200:
                assert done.json()["status"] == "completed"
                run.e2e_ms.append((time.perf_counter() - started) * 1000)
                owners[number] = headers
                return
        raise RuntimeError("no trader could confirm the order")

    return await run_concurrently(m, one)


async def bench_bare(
    client: Client, m: int, shape: Any = BarePayinWorkflow, meter: CpuMeter | None = None
) -> Run:
    """M runs of a baseline workflow class (the same shape, or the floor) through its updates."""
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"

    async def one(i: int, run: Run) -> None:
        started = time.perf_counter()
        inp = BareInput(f"{queue}-{uuid.uuid4().hex[:12]}")
        start = WithStartWorkflowOperation(
            shape.run,
            inp,
            id=f"bare-payin-{inp.order_id}",
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await client.execute_update_with_start_workflow(
            shape.instructions, inp, start_workflow_operation=start
        )
        run.create_ms.append((time.perf_counter() - started) * 1000)
        handle = client.get_workflow_handle(f"bare-payin-{inp.order_id}")
        await handle.execute_update(shape.mark_paid, inp)
        await handle.execute_update(shape.confirm, inp)
        run.e2e_ms.append((time.perf_counter() - started) * 1000)

    # Its own worker process, like the platform's worker: the same layout on both sides.
    address = client.service_client.config.target_host
    async with worker_process(bare_worker, address, queue):
        await run_concurrently(min(10, m), one)  # warm-up, not counted
        before = meter.snapshot() if meter else {}
        run = await run_concurrently(m, one)
        run.cpu = meter.since(before) if meter else {}
        return run


def check_ledger(database_url: str) -> str:
    """Σ of every ledger entry is zero, each completed pay-in has exactly one settlement and
    one `payin.completed` callback, delivered (waits up to a minute for the deliveries)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            entries_sum = conn.execute(
                text("SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entries")
            ).scalar_one()
            completed = conn.execute(
                text("SELECT COUNT(*) FROM orders WHERE kind = 'payin' AND status = 'completed'")
            ).scalar_one()
            settlements = conn.execute(
                text(
                    "SELECT o.id, COUNT(p.id) FROM orders o LEFT JOIN ledger_postings p"
                    " ON p.order_id = o.id AND p.kind = 'payin_settle'"
                    " WHERE o.kind = 'payin' GROUP BY o.id, o.status"
                    " HAVING COUNT(p.id) <> CASE WHEN o.status = 'completed' THEN 1 ELSE 0 END"
                )
            ).all()
        undelivered: Any = []
        for _ in range(120):
            with engine.connect() as conn:
                undelivered = conn.execute(
                    text(
                        "SELECT o.id, COUNT(d.id), MIN(d.status) FROM orders o"
                        " LEFT JOIN callback_deliveries d ON d.order_id = o.id"
                        " AND d.event_type = 'payin.completed'"
                        " WHERE o.kind = 'payin' AND o.status = 'completed' GROUP BY o.id"
                        " HAVING COUNT(d.id) <> 1 OR MIN(d.status) <> 'delivered'"
                    )
                ).all()
            if not undelivered:
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
    if entries_sum != 0 or settlements or undelivered:
        late = [tuple(map(str, row)) for row in undelivered[:10]]
        raise SystemExit(
            f"GUARANTEE BROKEN: Σ entries = {entries_sum}; orders with the wrong number of "
            f"settlements: {[(str(o), n) for o, n in settlements][:10]}; completed orders "
            f"without exactly one delivered callback: {late}"
        )
    return (
        f"ledger: Σ entries = 0; {completed} completed pay-ins, each with one settlement "
        "and one delivered callback"
    )


@asynccontextmanager
async def local_platform() -> AsyncIterator[Any]:
    """Own PostgreSQL database, Temporal dev server and SeaweedFS; API in-process, worker not."""
    from bench.local_stack import local_stack

    async with local_stack() as stack:
        yield stack


async def remote_platform(
    args: argparse.Namespace,
) -> tuple[httpx.AsyncClient, str, list[dict], Client]:
    creds = json.loads(await asyncio.to_thread(Path(args.credentials).read_text))
    api = httpx.AsyncClient(base_url=args.url, timeout=60)
    traders = []
    for name in ("trader1", "trader2"):
        email, password = f"{name}@jivapay.dev", creds["passwords"][name]
        login = await api.post("/api/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
        traders.append({"Authorization": f"Bearer {login.json()['access_token']}"})
    client = await Client.connect(args.temporal)
    return api, creds["store_api_key"], traders, client


def table(rows: list[tuple[str, Run]]) -> None:
    head = ("ok", "fail", "per_s", "create p50", "create p99", "e2e p50", "e2e p99")
    widths = (5, 5, 8, 11, 11, 9, 9)
    print("\n" + " " * 26 + " " + " ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))
    for name, r in rows:
        print(
            f"{name:26} {len(r.e2e_ms):5d} {r.failures:5d} {r.per_s():8.1f} "
            f"{pct(r.create_ms, 0.5):9.1f}ms {pct(r.create_ms, 0.99):9.1f}ms "
            f"{pct(r.e2e_ms, 0.5):7.1f}ms {pct(r.e2e_ms, 0.99):7.1f}ms"
        )


def report(payin: Run, floor: Run, shape: Run) -> None:
    table([("pay-in (API+DB+Temporal)", payin), ("floor workflow", floor), ("same shape", shape)])
    if payin.cpu:
        phases = [("pay-in", payin), ("floor", floor), ("same shape", shape)]
        cpu_table([(name, run.cpu, len(run.e2e_ms)) for name, run in phases])

    def p50(run: Run) -> float:
        return pct(run.create_ms, 0.5)

    ratio = payin.per_s() / floor.per_s() if floor.per_s() else 0.0
    same = payin.per_s() / shape.per_s() if shape.per_s() else 0.0
    create_ratio = p50(payin) / p50(floor) if floor.create_ms else 0.0
    failures = payin.failures + floor.failures + shape.failures
    print(
        f"RESULT payin_per_s={payin.per_s():.1f} floor_per_s={floor.per_s():.1f} "
        f"ratio={ratio:.2f} create_p50_ms={p50(payin):.1f} floor_create_p50_ms={p50(floor):.1f} "
        f"create_ratio={create_ratio:.2f} same_shape_ratio={same:.2f} "
        f"create_p99_ms={pct(payin.create_ms, 0.99):.1f} failures={failures}"
    )
    if failures:
        raise SystemExit(f"{failures} orders failed")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="200 orders instead of 1000")
    parser.add_argument("-m", type=int, default=None, help="number of pay-ins (and bare runs)")
    parser.add_argument("--url", help="base URL of a running platform (make run)")
    parser.add_argument("--temporal", default="127.0.0.1:7233", help="Temporal address with --url")
    parser.add_argument("--database-url", help="with --url: the platform's database, to check")
    parser.add_argument("--credentials", default=str(ROOT / ".data" / "demo-credentials.json"))
    args = parser.parse_args()
    m = args.m or (200 if args.quick else 1000)
    if args.url:
        api, key, traders, client = await remote_platform(args)
        async with api:
            payin = await bench_payins(api, key, traders, m)
        floor = await bench_bare(client, m, FloorPayinWorkflow)
        shape = await bench_bare(client, m, BarePayinWorkflow)
        if args.database_url:
            print(await asyncio.to_thread(check_ledger, args.database_url))
        else:
            print("ledger: not checked (pass --database-url)")
    else:
        async with local_platform() as stack:
            api, key, traders, client, database_url = stack
            print(f"warming up, then {m} pay-ins at concurrency {CONCURRENCY}…", flush=True)
            await bench_payins(api, key, traders, min(20, m))
            meter = CpuMeter(database_url)
            before = await asyncio.to_thread(meter.snapshot)
            payin = await bench_payins(api, key, traders, m)
            payin.cpu = await asyncio.to_thread(meter.since, before)
            floor = await bench_bare(client, m, FloorPayinWorkflow, meter)
            shape = await bench_bare(client, m, BarePayinWorkflow, meter)
            meter.close()
            print(await asyncio.to_thread(check_ledger, database_url))
    report(payin, floor, shape)


if __name__ == "__main__":
    asyncio.run(main())
