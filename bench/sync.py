"""Benchmark: onboarding a large user (3 banks × several accounts × many thousand
transactions) from the bank emulator over HTTP into PostgreSQL, through Temporal.

    python bench/sync.py [--quick] [--multiplier N]

Last line: RESULT tx_per_s=… sync_s=… peak_rss_mb=… transactions=…
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session, func, select

from bench.common import bench_settings, running_worker, scratch_database, temporal
from connect.identities import assign_identity, pool_names, release_identity
from contracts.connect import OnboardingInput
from core.context import ServiceContext
from core.security import hash_password
from launcher.services import free_port, start_process, wait_for_port
from models.banking import BankAccount, BankTransaction
from models.users import Role, User
from workflows.onboarding import OnboardingWorkflow

BANKS = ["vbank", "abank", "sbank"]


def start_emulator(multiplier: int, log_dir: Path) -> tuple[object, str]:
    port = free_port()
    args = [sys.executable, "-m", "bank_emulator", "--port", str(port), "--log-level", "warning"]
    proc = start_process(
        "bank-emulator",
        args,
        log_dir / "emulator.log",
        {"BANK_EMULATOR_TX_MULTIPLIER": str(multiplier)},
    )
    wait_for_port(proc, "127.0.0.1", port)
    return proc, f"http://127.0.0.1:{port}"


def create_user(ctx: ServiceContext) -> uuid.UUID:
    with Session(ctx.engine) as session:
        user = User(
            email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
            password_hash=hash_password("bench-password-123"),
            role=Role.connect_user,
        )
        session.add(user)
        session.commit()
    # Each bench run's user takes the first identity (what an earlier run synced is freed).
    release_identity(ctx.engine, pool_names(ctx.settings)[0])
    assign_identity(ctx.engine, ctx.settings, user.id)
    return user.id


def counts(ctx: ServiceContext, user_id: uuid.UUID) -> tuple[int, int]:
    with Session(ctx.engine) as session:
        tx = session.exec(
            select(func.count())
            .select_from(BankTransaction)
            .where(BankTransaction.user_id == user_id)
        ).one()
        accounts = session.exec(
            select(func.count()).select_from(BankAccount).where(BankAccount.user_id == user_id)
        ).one()
    return int(tx), int(accounts)


async def run(multiplier: int) -> None:
    log_dir = Path("/tmp") / f"jivapay-bench-sync-{uuid.uuid4().hex[:6]}"  # noqa: S108
    emulator, url = start_emulator(multiplier, log_dir)
    try:
        with scratch_database() as database_url:
            async with temporal() as env:
                address = env.client.service_client.config.target_host
                settings = bench_settings(
                    database_url,
                    address,
                    bank_base_urls={bank: f"{url}/{bank}" for bank in BANKS},
                )
                ctx = ServiceContext.build(settings)
                user_id = create_user(ctx)
                async with running_worker(env, ctx):
                    started = time.perf_counter()
                    progress = await env.client.execute_workflow(
                        OnboardingWorkflow.run,
                        OnboardingInput(str(user_id), BANKS, allow_sandbox_sign=True),
                        id=f"onboarding-{user_id}",
                        task_queue=settings.temporal_task_queue,
                    )
                    elapsed = time.perf_counter() - started
                transactions, accounts = counts(ctx, user_id)
                ctx.engine.dispose()
    finally:
        emulator.stop()  # type: ignore[attr-defined]
    statuses = {b.bank_code: b.status for b in progress.banks}
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'multiplier':<22}{multiplier}")
    print(f"{'banks':<22}{statuses}")
    print(f"{'accounts':<22}{accounts}")
    print(f"{'transactions stored':<22}{transactions}")
    print(f"{'onboarding wall time':<22}{elapsed:.2f} s (token, consents, sign, sync, snapshot)")
    print(f"{'throughput':<22}{transactions / elapsed:.0f} tx/s")
    print(f"{'peak RSS (worker)':<22}{peak_rss_mb:.0f} MB")
    if any(status != "ready" for status in statuses.values()):
        raise SystemExit(f"onboarding did not finish: {statuses}")
    print(
        f"RESULT tx_per_s={transactions / elapsed:.0f} sync_s={elapsed:.2f} "
        f"peak_rss_mb={peak_rss_mb:.0f} transactions={transactions}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller user, under 2 minutes")
    parser.add_argument("--multiplier", type=int, help="emulator transaction multiplier")
    args = parser.parse_args()
    multiplier = args.multiplier or (10 if args.quick else 40)
    asyncio.run(run(multiplier))


if __name__ == "__main__":
    main()
