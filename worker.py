"""The Temporal worker: connects once, registers every workflow and activity, stops cleanly."""

from __future__ import annotations

import asyncio
import compileall
import logging
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from prometheus_client import start_http_server
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import build_activities
from core import metrics  # noqa: F401 - registers the business metrics this process serves
from core.context import ServiceContext
from core.heartbeats import heartbeating
from core.logging import configure_logging
from core.observability import SentryInterceptor, init_sentry
from core.settings import Settings, get_settings
from core.tracing import TracingInterceptor
from processing.notifications.schedule import ensure_sweep_schedule
from processing.orders.reconcile_schedule import ensure_reconcile_schedule
from processing.platform.rates_schedule import ensure_rates_schedule
from workflows.callback import CallbackWorkflow
from workflows.consents import RevokeConsentWorkflow
from workflows.deposit import DepositWorkflow
from workflows.notification import NotificationSweepWorkflow, NotificationWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.payin import PayinWorkflow
from workflows.payout import PayoutWorkflow
from workflows.rates import RatesRefreshWorkflow
from workflows.recategorise import RecategoriseWorkflow
from workflows.reconcile import ReconcileWorkflow
from workflows.refresh import RefreshWorkflow
from workflows.statement_watch import StatementWatchWorkflow
from workflows.sync import SyncWorkflow
from workflows.withdrawal import WithdrawalWorkflow

# Listed here, not in `workflows/__init__.py`: the sandbox re-runs the package's __init__
# for every new workflow run, and importing every workflow module there made each pay-in
# start pay for the Connect workflows too.
WORKFLOWS: list[type] = [OnboardingWorkflow, SyncWorkflow]
WORKFLOWS += [PayinWorkflow, PayoutWorkflow, CallbackWorkflow]
WORKFLOWS += [RefreshWorkflow, RecategoriseWorkflow]
WORKFLOWS += [RevokeConsentWorkflow, StatementWatchWorkflow, ReconcileWorkflow]
WORKFLOWS += [RatesRefreshWorkflow]
WORKFLOWS += [DepositWorkflow, WithdrawalWorkflow]
WORKFLOWS += [NotificationWorkflow, NotificationSweepWorkflow]

log = logging.getLogger("jivapay.worker")
ACTIVITY_THREADS = 32
# The sandbox re-imports a workflow's modules for every new workflow run, on the event loop
# (it blocked the loop ~40 ms per pay-in). `contracts` is standard library only, holds no
# state and is deterministic, so the sandbox may share the already imported module (its
# request-id context variable is then the one the log record factory reads).
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("contracts")
)


def build_worker(
    client: Client, ctx: ServiceContext, task_queue: str, executor: ThreadPoolExecutor
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=WORKFLOW_RUNNER,
        activities=build_activities(ctx),
        # Sync activities (database work) run here, never on the event loop.
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        graceful_shutdown_timeout=timedelta(seconds=10),
        interceptors=[TracingInterceptor(), SentryInterceptor()],
    )


def temporal_runtime(settings: Settings) -> Runtime | None:
    """The SDK's metrics (workflow task latency, slots, polls) on their own port."""
    if not settings.worker_sdk_metrics_port:
        return None
    address = f"{settings.worker_metrics_host}:{settings.worker_sdk_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


def compile_workflows() -> bool:
    """Write the workflow modules' bytecode once, at start. The sandbox imports them afresh
    for every workflow run it creates; without bytecode on disk (PYTHONDONTWRITEBYTECODE, a
    fresh checkout) each of those imports compiles the source again. False when it could
    not be written (a read-only tree: the image compiles it at build time)."""
    try:
        return bool(compileall.compile_dir(Path(__file__).parent / "workflows", quiet=2))
    except OSError:
        return False


async def run_worker(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[], None] | None = None
) -> None:
    if not await asyncio.to_thread(compile_workflows):
        log.warning("workflow bytecode could not be written: each new run compiles them")
    ctx = ServiceContext.build(settings)
    runtime = temporal_runtime(settings)
    client = await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, runtime=runtime
    )
    if settings.worker_app_metrics_port:
        start_http_server(settings.worker_app_metrics_port, addr=settings.worker_metrics_host)
    with ThreadPoolExecutor(
        max_workers=ACTIVITY_THREADS, thread_name_prefix="activity"
    ) as executor:
        # Async activities (matching, bank calls, the statement watch) run their database
        # work with `asyncio.to_thread`: the same pool as the sync ones, not the loop's small
        # default one (cores + 4 threads).
        asyncio.get_running_loop().set_default_executor(executor)
        worker = build_worker(client, ctx, settings.temporal_task_queue, executor)
        log.info("worker polling task queue %s", settings.temporal_task_queue)
        # Orders created while Temporal was down: failed as not_started after the grace.
        await ensure_reconcile_schedule(
            client, settings.temporal_task_queue, settings.orphan_grace_seconds
        )
        # Exchange rates from the provider, into the database (orders price with them).
        await ensure_rates_schedule(
            client, settings.temporal_task_queue, settings.rates_refresh_seconds
        )
        # Notifications: deadline reminders, Telegram chats to link, deliveries to start.
        await ensure_sweep_schedule(client, settings.temporal_task_queue)
        beat = settings.worker_heartbeat_seconds
        async with worker, heartbeating(ctx.engine, settings.temporal_task_queue, beat):
            if on_ready is not None:
                on_ready()
            await stop.wait()
            log.info("shutting down: finishing running activities")
    await ctx.close()
    log.info("worker stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, service="worker", style=settings.effective_log_format)
    init_sentry(settings, "worker")
    stop = asyncio.Event()

    async def runner() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(runner())
    # Everything is drained and closed by now. Skipping interpreter finalization avoids a
    # crash (SIGABRT, "PyGILState_Release … finalizing") when the Temporal SDK's native
    # threads touch Python while the interpreter tears down.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
