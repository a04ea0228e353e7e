"""Pay-in benchmark: M pay-ins end to end (create → paid → trader confirm) at concurrency 20,
against the same number of a bare Temporal workflow of the same shape (no DB, S3 or HTTP).

    python bench/payin.py            # own PostgreSQL db, Temporal dev server, SeaweedFS
    python bench/payin.py --quick    # fewer orders, under two minutes
    python bench/payin.py --url http://127.0.0.1:8000   # a running `make run` platform

Prints a table and, last, `RESULT payin_per_s=… bare_per_s=… ratio=… create_p50_ms=…
create_p99_ms=… e2e_p50_ms=…`.
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

import httpx
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bare_payin import BareInput, BarePayinWorkflow  # noqa: E402
from bench.worker_process import bare_worker, worker_process  # noqa: E402

CONCURRENCY = 20


@dataclass
class Run:
    create_ms: list[float] = field(default_factory=list)
    e2e_ms: list[float] = field(default_factory=list)
    failures: int = 0
    wall_s: float = 0.0

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
        order_id = created.json()["id"]
        (await api.post(f"/api/gateway/payins/{order_id}/paid", headers=store)).raise_for_status()
        for headers in traders:  # the order names no trader; the owner answers, others 404
            done = await api.post(f"/api/trader/orders/{order_id}/confirm", headers=headers)
            if done.status_code == 200:
                assert done.json()["status"] == "completed"
                run.e2e_ms.append((time.perf_counter() - started) * 1000)
                return
        raise RuntimeError("no trader could confirm the order")

    return await run_concurrently(m, one)


async def bench_bare(client: Client, m: int) -> Run:
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"

    async def one(i: int, run: Run) -> None:
        started = time.perf_counter()
        inp = BareInput(f"{queue}-{i}")
        start = WithStartWorkflowOperation(
            BarePayinWorkflow.run,
            inp,
            id=f"bare-payin-{inp.order_id}",
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await client.execute_update_with_start_workflow(
            BarePayinWorkflow.instructions, inp, start_workflow_operation=start
        )
        run.create_ms.append((time.perf_counter() - started) * 1000)
        handle = client.get_workflow_handle(f"bare-payin-{inp.order_id}")
        await handle.execute_update(BarePayinWorkflow.mark_paid, inp)
        await handle.execute_update(BarePayinWorkflow.confirm, inp)
        run.e2e_ms.append((time.perf_counter() - started) * 1000)

    # Its own worker process, like the platform's worker: the same layout on both sides.
    address = client.service_client.config.target_host
    async with worker_process(bare_worker, address, queue):
        return await run_concurrently(m, one)


@asynccontextmanager
async def local_platform() -> AsyncIterator[tuple[httpx.AsyncClient, str, list[dict], Client]]:
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


def report(payin: Run, bare: Run) -> None:
    table([("pay-in (API+DB+Temporal)", payin), ("bare workflow", bare)])
    ratio = payin.per_s() / bare.per_s() if bare.per_s() else 0.0
    print(
        f"RESULT payin_per_s={payin.per_s():.1f} bare_per_s={bare.per_s():.1f} ratio={ratio:.2f} "
        f"create_p50_ms={pct(payin.create_ms, 0.5):.1f} "
        f"create_p99_ms={pct(payin.create_ms, 0.99):.1f} "
        f"e2e_p50_ms={pct(payin.e2e_ms, 0.5):.1f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="40 orders instead of 200")
    parser.add_argument("-m", type=int, default=None, help="number of pay-ins (and bare runs)")
    parser.add_argument("--url", help="base URL of a running platform (make run)")
    parser.add_argument("--temporal", default="127.0.0.1:7233", help="Temporal address with --url")
    parser.add_argument("--credentials", default=str(ROOT / ".data" / "demo-credentials.json"))
    args = parser.parse_args()
    m = args.m or (40 if args.quick else 200)
    if args.url:
        api, key, traders, client = await remote_platform(args)
        async with api:
            payin = await bench_payins(api, key, traders, m)
        bare = await bench_bare(client, m)
    else:
        async with local_platform() as (api, key, traders, client):
            print(f"warming up, then {m} pay-ins at concurrency {CONCURRENCY}…", flush=True)
            await bench_payins(api, key, traders, min(10, m))
            payin = await bench_payins(api, key, traders, m)
            bare = await bench_bare(client, m)
    report(payin, bare)


if __name__ == "__main__":
    asyncio.run(main())
