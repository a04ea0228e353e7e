"""Pay-out benchmark: M pay-outs end to end (create → take → paid with proof → completed)
at concurrency 20, against the same number of a bare Temporal workflow of the same shape
(no DB, S3 or HTTP), on the same server and worker layout.

    python bench/payout.py            # own PostgreSQL db, Temporal dev server, SeaweedFS
    python bench/payout.py --quick    # fewer orders, under two minutes

Prints a table and, last, `RESULT payout_per_s=… bare_per_s=… ratio=… create_p50_ms=…
create_p99_ms=… e2e_p50_ms=… ledger_sum=…`. Fails loudly if the ledger does not balance.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bare_payin import BareInput  # noqa: E402
from bench.bare_payout import BarePayoutWorkflow  # noqa: E402
from bench.payin import CONCURRENCY, Run, pct, run_concurrently, table  # noqa: E402
from bench.worker_process import bare_worker, worker_process  # noqa: E402

PROOF = b"\x89PNG\r\n\x1a\n" + bytes(64)
CARD = "4111111111111111"


async def bench_payouts(api: httpx.AsyncClient, store_key: str, traders: list[dict], m: int) -> Run:
    store = {"X-API-Key": store_key}

    async def one(i: int, run: Run) -> None:
        started = time.perf_counter()
        body = {
            "amount": f"{100 + (i % 400) * 0.25:.2f}",
            "currency": "RUB",
            "merchant_order_id": f"bench-po-{uuid.uuid4().hex}",
            "recipient": {"card_number": CARD},
        }
        created = await api.post("/api/gateway/payouts", json=body, headers=store)
        run.create_ms.append((time.perf_counter() - started) * 1000)
        if created.status_code != 201:
            raise RuntimeError(f"create answered {created.status_code}: {created.text[:300]}")
        order_id = created.json()["id"]
        trader = traders[i % len(traders)]
        taken = await api.post(f"/api/trader/payouts/{order_id}/take", headers=trader)
        if taken.status_code != 200:
            raise RuntimeError(f"take answered {taken.status_code}: {taken.text[:300]}")
        paid = await api.post(
            f"/api/trader/payouts/{order_id}/paid",
            files={"proof": ("proof.png", PROOF, "image/png")},
            headers=trader,
        )
        paid.raise_for_status()
        for _ in range(1000):
            view = await api.get(f"/api/gateway/payouts/{order_id}", headers=store)
            if view.json()["status"] == "completed":
                run.e2e_ms.append((time.perf_counter() - started) * 1000)
                return
            await asyncio.sleep(0.02)
        raise RuntimeError(f"pay-out {order_id} did not complete")

    return await run_concurrently(m, one)


async def bench_bare(client: Client, m: int) -> Run:
    queue = f"bench-bare-po-{uuid.uuid4().hex[:8]}"

    async def one(i: int, run: Run) -> None:
        started = time.perf_counter()
        inp = BareInput(f"{queue}-{i}")
        workflow_id = f"bare-payout-{inp.order_id}"
        start = WithStartWorkflowOperation(
            BarePayoutWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await client.execute_update_with_start_workflow(
            BarePayoutWorkflow.instructions, inp, start_workflow_operation=start
        )
        run.create_ms.append((time.perf_counter() - started) * 1000)
        handle = client.get_workflow_handle(workflow_id)
        await handle.execute_update(BarePayoutWorkflow.take, inp)
        await handle.execute_update(BarePayoutWorkflow.mark_paid, inp)
        await handle.result()
        run.e2e_ms.append((time.perf_counter() - started) * 1000)

    address = client.service_client.config.target_host
    async with worker_process(bare_worker, address, queue):
        return await run_concurrently(m, one)


def ledger_sum(api: httpx.AsyncClient) -> int:
    """Σ of every ledger entry of the benchmark's database (must be 0)."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from models.ledger import Entry

    app = api._transport.app  # type: ignore[attr-defined]
    with Session(app.state.ctx.engine) as session:
        return int(session.exec(select(func.coalesce(func.sum(Entry.amount_minor), 0))).one())


def report(payout: Run, bare: Run, total: int) -> None:
    table([("pay-out (API+DB+Temporal)", payout), ("bare workflow", bare)])
    ratio = payout.per_s() / bare.per_s() if bare.per_s() else 0.0
    print(
        f"RESULT payout_per_s={payout.per_s():.1f} bare_per_s={bare.per_s():.1f} "
        f"ratio={ratio:.2f} create_p50_ms={pct(payout.create_ms, 0.5):.1f} "
        f"create_p99_ms={pct(payout.create_ms, 0.99):.1f} "
        f"e2e_p50_ms={pct(payout.e2e_ms, 0.5):.1f} ledger_sum={total}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="60 pay-outs instead of 200")
    parser.add_argument("-m", type=int, default=None, help="number of pay-outs (and bare runs)")
    args = parser.parse_args()
    m = args.m or (60 if args.quick else 200)
    from bench.local_stack import local_stack

    async with local_stack() as (api, key, traders, client, _db):
        print(f"warming up, then {m} pay-outs at concurrency {CONCURRENCY}…", flush=True)
        await bench_payouts(api, key, traders, min(10, m))
        payout = await bench_payouts(api, key, traders, m)
        bare = await bench_bare(client, m)
        total = await asyncio.to_thread(ledger_sum, api)
    report(payout, bare, total)
    if total != 0 or payout.failures:
        raise SystemExit(f"ledger sum {total}, {payout.failures} failed pay-outs")


if __name__ == "__main__":
    asyncio.run(main())
