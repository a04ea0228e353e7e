"""Benchmark: onboarding a large user (3 banks × several accounts × many thousand
transactions) from the bank emulator over HTTP into PostgreSQL, through Temporal — measured
against the wire floor, in the same run.

    .venv/bin/python bench/sync.py [--quick] [--multiplier N] [--scale N]

One run, one emulator process, one user identity (`{team}-1`):
1. the wire floor: the user's transaction pages (the first sync's window) fetched by the
   same `BankClient`, same page size and concurrency (every account of every bank at once),
   and thrown away: no database, no raw log, no Temporal. Its consents are made and the
   emulator's data built before the clock starts; the fastest of three passes after an untimed
   one counts (the emulator is as warm for the sync); its consents are revoked afterwards;
2. the full onboarding through Temporal (token, consents, sandbox sign, the banks' syncs,
   snapshot, refresh schedule), the worker in its own process as in production.

Last line: RESULT tx_per_s=… fetch_tx_per_s=… ratio=… peak_rss_mb=… transactions=… …
- tx_per_s: transactions stored / sync_s, the time from the first bank's SyncWorkflow start
  to the last one's end (accounts, balances, every transaction page, agreements, the run's
  bookkeeping, all through Temporal; taken from the onboarding's history);
- ratio = tx_per_s / fetch_tx_per_s;
- onboarding_s: the whole onboarding as the user waits for it (the consents and the
  snapshot included), as this benchmark measured before the floor existed;
- peak_rss_mb: of the worker process; worker_cpu_s: its CPU time from polling to stopping.

`--scale N` runs all of the above twice, each with its own emulator, database, Temporal and
worker: at the multiplier, then at N times it (N× the card spending of the history). The
last line then adds time_ratio= (sync_s at N× / at 1×, linear ≈ N), rss_ratio= (worker
peak RSS at N× / at 1×: pages stream into the database, so it stays near 1) and cpu_ratio=
(worker CPU at N× / at 1×, the steadier sign of linear growth on a shared machine); the
scale-1 figures are printed just above it.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.sharedctypes import SynchronizedArray
from multiprocessing.synchronize import Event
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session, func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from banks import BankClient
from bench.common import bench_settings, scratch_database, temporal
from bench.worker_process import SPAWN, platform_worker, worker_process
from connect.bank_data import FIRST_SYNC_HISTORY
from connect.identities import assign_identity, ensure_pool, pool_names, release_identity
from contracts.connect import OnboardingInput
from core.context import ServiceContext
from core.security import hash_password
from core.settings import Settings
from launcher.services import free_port, start_process, wait_for_port
from models.banking import BankAccount, BankTransaction
from models.users import Role, User
from workflows.onboarding import OnboardingWorkflow

BANKS = ["vbank", "abank", "sbank"]


@dataclass
class Figures:
    multiplier: int
    transactions: int
    accounts: int
    sync_s: float
    onboarding_s: float
    fetched: int
    fetch_s: float
    peak_rss_mb: float
    worker_cpu_s: float

    @property
    def tx_per_s(self) -> float:
        return self.transactions / self.sync_s

    @property
    def fetch_tx_per_s(self) -> float:
        return self.fetched / self.fetch_s

    @property
    def ratio(self) -> float:
        return self.tx_per_s / self.fetch_tx_per_s


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


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def measured_worker(settings: Settings, usage: SynchronizedArray[float], ready: Event) -> None:
    """The platform's worker (worker.py's `run_worker`) in a fresh process; on SIGTERM it
    stops and reports its peak RSS (KB) and the CPU seconds it spent once polling."""

    class Ready:
        def set(self) -> None:
            usage[1] = _cpu_s()
            ready.set()

    platform_worker(settings, Ready())  # type: ignore[arg-type]
    usage[0], usage[1] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, _cpu_s() - usage[1]


def create_user(ctx: ServiceContext) -> tuple[uuid.UUID, str]:
    with Session(ctx.engine) as session:
        user = User(
            email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
            password_hash=hash_password("bench-password-123"),
            role=Role.connect_user,
        )
        user_id = user.id
        session.add(user)
        session.commit()
    # Each bench run's user takes the first identity (what an earlier run synced is freed).
    ensure_pool(ctx.engine, ctx.settings)
    release_identity(ctx.engine, pool_names(ctx.settings)[0])
    return user_id, assign_identity(ctx.engine, ctx.settings, user_id)


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


async def _count_pages(client: BankClient, account: str, external: str, consent: str) -> int:
    since = datetime.now(UTC) - FIRST_SYNC_HISTORY  # the window of a first sync
    stream = client.iter_transactions(
        account, external_client_id=external, consent_id=consent, from_dt=since
    )
    return sum([1 async for _ in stream])


async def wire_floor(settings: Settings, url: str, external: str) -> tuple[int, float]:
    """(transactions, seconds): every account's pages of every bank fetched at once; the
    fastest of three passes after an untimed one (the emulator warm, as the sync finds it)."""
    secret = settings.bank_client_secret.get_secret_value()
    clients = {b: BankClient(b, f"{url}/{b}", settings.bank_client_id, secret) for b in BANKS}
    consents: dict[str, str] = {}
    try:
        for bank, client in clients.items():
            asked = await client.request_account_consent(external)
            consent_id = asked.consent_id
            if consent_id is None:
                signed = await client.sign_account_consent(external, secret, asked.request_id)
                consent_id = signed.consent_id
            assert consent_id, f"{bank}: no consent for the wire floor"
            consents[bank] = consent_id
        accounts = {
            bank: await client.list_accounts(external, consents[bank])
            for bank, client in clients.items()
        }
        passes = []
        for _ in range(4):
            started = time.perf_counter()
            fetched = await asyncio.gather(
                *(
                    _count_pages(clients[bank], account.account_id, external, consents[bank])
                    for bank in BANKS
                    for account in accounts[bank]
                )
            )
            passes.append(time.perf_counter() - started)
        for bank, client in clients.items():
            await client.revoke_account_consent(consents[bank])
    finally:
        for client in clients.values():
            await client.aclose()
    return sum(fetched), min(passes[1:])


async def sync_seconds(client: Client, workflow_id: str) -> float:
    """From the first bank's SyncWorkflow start to the last one's end (onboarding history)."""
    started, ended = [], []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        at = event.event_time.ToDatetime().timestamp()
        if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            started.append(at)
        elif event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
            ended.append(at)
    return max(ended) - min(started)


async def run(multiplier: int) -> Figures:
    log_dir = Path("/tmp") / f"jivapay-bench-sync-{uuid.uuid4().hex[:6]}"  # noqa: S108
    emulator, url = start_emulator(multiplier, log_dir)
    usage = SPAWN.Array("d", 2)
    try:
        with scratch_database() as database_url:
            async with temporal() as client:
                address = client.service_client.config.target_host
                settings = bench_settings(
                    database_url,
                    address,
                    bank_base_urls={bank: f"{url}/{bank}" for bank in BANKS},
                )
                ctx = ServiceContext.build(settings)
                user_id, external = create_user(ctx)
                fetched, fetch_s = await wire_floor(settings, url, external)
                async with worker_process(measured_worker, settings, usage):
                    started = time.perf_counter()
                    progress = await client.execute_workflow(
                        OnboardingWorkflow.run,
                        OnboardingInput(str(user_id), BANKS, allow_sandbox_sign=True),
                        id=f"onboarding-{user_id}",
                        task_queue=settings.temporal_task_queue,
                    )
                    onboarding_s = time.perf_counter() - started
                sync_s = await sync_seconds(client, f"onboarding-{user_id}")
                transactions, accounts = counts(ctx, user_id)
                await ctx.close()
    finally:
        emulator.stop()  # type: ignore[attr-defined]
    statuses = {b.bank_code: b.status for b in progress.banks}
    if any(status != "ready" for status in statuses.values()):
        raise SystemExit(f"onboarding did not finish: {statuses}")
    peak_rss_mb, worker_cpu_s = usage[0] / 1024, usage[1]
    figures = Figures(
        multiplier,
        transactions,
        accounts,
        sync_s,
        onboarding_s,
        fetched,
        fetch_s,
        peak_rss_mb,
        worker_cpu_s,
    )
    report(figures)
    return figures


def report(f: Figures) -> None:
    rows = [
        ("multiplier", f"{f.multiplier}"),
        ("accounts", f"{f.accounts}"),
        ("wire floor", f"{f.fetched} tx in {f.fetch_s:.2f} s = {f.fetch_tx_per_s:.0f} tx/s"),
        ("transactions stored", f"{f.transactions}"),
        ("sync", f"{f.sync_s:.2f} s = {f.tx_per_s:.0f} tx/s ({f.ratio:.2f} of the floor)"),
        ("onboarding", f"{f.onboarding_s:.2f} s = {f.transactions / f.onboarding_s:.0f} tx/s"),
        ("", "(token, consents, sign, sync, snapshot, refresh schedule)"),
        ("worker", f"peak RSS {f.peak_rss_mb:.0f} MB, CPU {f.worker_cpu_s:.1f} s"),
    ]
    for name, value in rows:
        print(f"{name:<22}{value}")
    if f.fetched != f.transactions:
        print(f"note: the floor fetched {f.fetched}, the sync stored {f.transactions}")


def result_line(f: Figures) -> str:
    return (
        f"tx_per_s={f.tx_per_s:.0f} fetch_tx_per_s={f.fetch_tx_per_s:.0f} ratio={f.ratio:.2f} "
        f"peak_rss_mb={f.peak_rss_mb:.0f} transactions={f.transactions} sync_s={f.sync_s:.2f} "
        f"onboarding_s={f.onboarding_s:.2f} worker_cpu_s={f.worker_cpu_s:.1f}"
    )


async def run_all(multiplier: int, scale: int) -> None:
    base = await run(multiplier)
    if scale <= 1:
        print(f"RESULT {result_line(base)}")
        return
    print()
    scaled = await run(multiplier * scale)
    time_ratio = scaled.sync_s / base.sync_s
    rss_ratio = scaled.peak_rss_mb / base.peak_rss_mb
    cpu_ratio = scaled.worker_cpu_s / base.worker_cpu_s
    print()
    grown = scaled.transactions / base.transactions
    print(f"{'scale':<22}{scale}× the history: {grown:.2f}× the transactions")
    print(f"{'sync time ratio':<22}{time_ratio:.2f} (linear: {grown:.2f})")
    print(f"{'onboarding time ratio':<22}{scaled.onboarding_s / base.onboarding_s:.2f}")
    print(f"{'worker CPU ratio':<22}{cpu_ratio:.2f} (steadier than wall time on a busy machine)")
    print(f"{'worker RSS ratio':<22}{rss_ratio:.2f} (aim: at most 1.2)")
    print(f"scale 1: {result_line(base)}")
    print(
        f"RESULT {result_line(scaled)} scale={scale} time_ratio={time_ratio:.2f} "
        f"rss_ratio={rss_ratio:.2f} cpu_ratio={cpu_ratio:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller user, under 3 minutes")
    parser.add_argument("--multiplier", type=int, help="emulator transaction multiplier")
    parser.add_argument("--scale", type=int, default=1, help="also run N× the history")
    args = parser.parse_args()
    multiplier = args.multiplier or (10 if args.quick else 40)
    asyncio.run(run_all(multiplier, args.scale))


if __name__ == "__main__":
    main()
