"""The Temporal worker: connects once, registers every workflow and activity, stops cleanly."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import build_activities
from core.context import ServiceContext
from core.logging import configure_logging
from core.settings import Settings, get_settings
from workflows.callback import CallbackWorkflow
from workflows.consents import RevokeConsentWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.payin import PayinWorkflow
from workflows.recategorise import RecategoriseWorkflow
from workflows.refresh import RefreshWorkflow
from workflows.sync import SyncWorkflow

# Listed here, not in `workflows/__init__.py`: the sandbox re-runs the package's __init__
# for every new workflow run, and importing every workflow module there made each pay-in
# start pay for the Connect workflows too.
WORKFLOWS: list[type] = [OnboardingWorkflow, SyncWorkflow]
WORKFLOWS += [PayinWorkflow, CallbackWorkflow]
WORKFLOWS += [RefreshWorkflow, RecategoriseWorkflow]
WORKFLOWS += [RevokeConsentWorkflow]

log = logging.getLogger("jivapay.worker")
ACTIVITY_THREADS = 32
# The sandbox re-imports a workflow's modules for every new workflow run, on the event loop
# (it blocked the loop ~40 ms per pay-in). `contracts` is standard library only, holds no
# state and is deterministic, so the sandbox may share the already imported module.
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
    )


async def run_worker(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[], None] | None = None
) -> None:
    ctx = ServiceContext.build(settings)
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    with ThreadPoolExecutor(
        max_workers=ACTIVITY_THREADS, thread_name_prefix="activity"
    ) as executor:
        worker = build_worker(client, ctx, settings.temporal_task_queue, executor)
        log.info("worker polling task queue %s", settings.temporal_task_queue)
        async with worker:
            if on_ready is not None:
                on_ready()
            await stop.wait()
            log.info("shutting down: finishing running activities")
    await ctx.close()
    log.info("worker stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
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
