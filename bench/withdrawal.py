"""Withdrawal benchmark: M withdrawals end to end over the gateway (create with the hold →
approve → paid → completed, with the merchant's callbacks) at concurrency 20, against the
same number of a bare Temporal workflow of the same shape (no DB, S3 or HTTP), on the same
server and worker layout (the worker in its own process).

    python bench/withdrawal.py            # own PostgreSQL db, Temporal dev server, SeaweedFS
    python bench/withdrawal.py --quick    # fewer withdrawals

Prints a table and, last, `RESULT withdrawal_per_s=… bare_per_s=… ratio=… ledger_sum=…`.
Fails loudly if the ledger does not balance.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bare_payin import BareInput  # noqa: E402
from bench.bare_withdrawal import BareWithdrawalWorkflow  # noqa: E402
from bench.payin import CONCURRENCY, Run, run_concurrently, table  # noqa: E402
from bench.payout import ledger_sum  # noqa: E402
from bench.worker_process import bare_worker, worker_process  # noqa: E402

CARD = "4111111111111111"


def admin_headers(api: httpx.AsyncClient) -> dict[str, str]:
    """A signed-in administrator of the benchmark's platform (who approves and pays)."""
    from sqlmodel import Session

    from core.security import create_access_token, hash_password
    from models.users import Role, User

    ctx = api._transport.app.state.ctx  # type: ignore[attr-defined]
    with Session(ctx.engine, expire_on_commit=False) as session:
        user = User(
            email=f"admin-{uuid.uuid4().hex[:8]}@bench.local",
            role=Role.admin,
            password_hash=hash_password(uuid.uuid4().hex),
        )
        session.add(user)
        session.commit()
    token = create_access_token(ctx.settings, user.id, Role.admin.value)
    return {"Authorization": f"Bearer {token}"}


async def bench_withdrawals(
    api: httpx.AsyncClient, store_key: str, admin: dict[str, str], m: int
) -> Run:
    store = {"X-API-Key": store_key}

    async def one(i: int, run: Run) -> None:
        started = time.perf_counter()
        body = {
            "amount": f"{100 + (i % 400) * 0.25:.2f}",
            "currency": "RUB",
            "destination": {"kind": "card", "value": CARD},
        }
        key = {"Idempotency-Key": uuid.uuid4().hex}
        created = await api.post("/api/gateway/withdrawals", json=body, headers=store | key)
        run.create_ms.append((time.perf_counter() - started) * 1000)
        if created.status_code != 201:
            raise RuntimeError(f"create answered {created.status_code}: {created.text[:300]}")
        url = f"/api/admin/withdrawals/{created.json()['id']}"
        approved = await api.post(f"{url}/approve", headers=admin)
        await settled(api, url, admin, approved, "approved")
        paid = await api.post(f"{url}/paid", data={"tx_hash": "ab" * 32}, headers=admin)
        await settled(api, url, admin, paid, "completed")
        run.e2e_ms.append((time.perf_counter() - started) * 1000)

    return await run_concurrently(m, one)


async def settled(
    api: httpx.AsyncClient, url: str, admin: dict[str, str], answer: httpx.Response, want: str
) -> None:
    """As a client does: a 202 (the workflow has the action, not applied within the API's
    wait) is followed by reads until the status lands."""
    if answer.status_code not in (200, 202):
        raise RuntimeError(f"{want}: answered {answer.status_code}: {answer.text[:300]}")
    status = answer.json()["status"]
    for _ in range(1500):
        if status == want:
            return
        await asyncio.sleep(0.02)
        status = (await api.get(url, headers=admin)).json()["status"]
    raise RuntimeError(f"withdrawal stayed {status}, wanted {want}")


async def bench_bare(client: Client, m: int) -> Run:
    queue = f"bench-bare-wd-{uuid.uuid4().hex[:8]}"

    async def one(i: int, run: Run) -> None:
        started = time.perf_counter()
        inp = BareInput(f"{queue}-{i}")
        handle = await client.start_workflow(
            BareWithdrawalWorkflow.run, inp, id=f"bare-withdrawal-{inp.order_id}", task_queue=queue
        )
        run.create_ms.append((time.perf_counter() - started) * 1000)
        await handle.execute_update(BareWithdrawalWorkflow.approve, inp)
        await handle.execute_update(BareWithdrawalWorkflow.mark_paid, inp)
        await handle.result()
        run.e2e_ms.append((time.perf_counter() - started) * 1000)

    address = client.service_client.config.target_host
    async with worker_process(bare_worker, address, queue):
        return await run_concurrently(m, one)


def report(withdrawal: Run, bare: Run, total: int) -> None:
    table([("withdrawal (API+DB+Temporal)", withdrawal), ("bare workflow", bare)])
    ratio = withdrawal.per_s() / bare.per_s() if bare.per_s() else 0.0
    print(
        f"RESULT withdrawal_per_s={withdrawal.per_s():.1f} bare_per_s={bare.per_s():.1f} "
        f"ratio={ratio:.2f} ledger_sum={total}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="200 withdrawals (the default)")
    parser.add_argument("-m", type=int, default=None, help="number of withdrawals (and bare runs)")
    args = parser.parse_args()
    m = args.m or 200
    from bench.local_stack import local_stack

    async with local_stack() as (api, key, _traders, client, _db):
        admin = await asyncio.to_thread(admin_headers, api)
        print(f"warming up, then {m} withdrawals at concurrency {CONCURRENCY}…", flush=True)
        await bench_withdrawals(api, key, admin, min(10, m))
        withdrawal = await bench_withdrawals(api, key, admin, m)
        bare = await bench_bare(client, m)
        total = await asyncio.to_thread(ledger_sum, api)
    report(withdrawal, bare, total)
    if total != 0 or withdrawal.failures:
        raise SystemExit(f"ledger sum {total}, {withdrawal.failures} failed withdrawals")


if __name__ == "__main__":
    asyncio.run(main())
