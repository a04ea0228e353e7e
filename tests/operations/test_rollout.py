"""Worker rollout drill: build A (today's worker.py) runs pay-ins, pay-outs and a Connect
onboarding mid-flight; build B (the same worker with a workflow change behind
`workflow.patched`, see `rollout_b`) starts on the same task queue; A gets SIGTERM, drains
and exits; B finishes every run A started and runs the new ones.

Checked: every order completes with its money settled, both onboardings (one begun on A
at SBank, one begun on B at VBank) complete, no workflow history on the queue holds a
failed workflow task and no worker log a non-determinism error, and the patch semantics: a
run begun on A never takes B's start-of-run branch (its history has no marker there) but
does take the end-of-run one it first reaches on B; a run begun on B takes both.
Replaying the histories shows why A must be gone before B runs anything: B replays every
run, A replays none that B touched past a patch (no rollback to a build that does not know
the patch once B has run).

About 15–35 s on an idle machine; up to ~85 s on a loaded one (two worker processes start,
each importing and connecting the whole worker, 5–15 s each when the cores are busy).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import pytest
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from contracts import connect as c
from contracts.processing import OrderKind, order_workflow_id
from core.context import ServiceContext
from core.settings import ROOT_DIR
from models.users import Role
from tests.connect.helpers import emulator_admin, emulator_of, pending_request, wait_until
from tests.factories import create_user, login, worker_env
from tests.operations.conftest import WorkerProcess, drill_app
from tests.operations.rollout_b import (
    FINISHED,
    PATCH_AT_END,
    PATCH_AT_START,
    STARTED,
    OnboardingWorkflowB,
    PayinWorkflowB,
)
from tests.operations.test_action_drills import PROOF, held, ok
from tests.operations.test_drills import assert_ledger_sound
from tests.operations.test_worker_drills import reached, until
from tests.processing import conftest as processing
from tests.processing.payout_kit import fund_store, payout_body, payout_store, payout_trader
from worker import WORKFLOW_RUNNER
from workflows.payin import PayinWorkflow

DRILL_TYPES = {"PayinWorkflow", "PayoutWorkflow", "OnboardingWorkflow", "SyncWorkflow"}
DRILL_TYPES |= {"CallbackWorkflow"}


class Build(WorkerProcess):
    """A worker process of one build, its output kept for the non-determinism scan."""

    def __init__(self, env: dict[str, str], args: list[str], log: Path) -> None:
        super().__init__(env)
        self.args, self.log = args, log

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, *self.args], cwd=ROOT_DIR, env=self.env, stdout=out, stderr=out
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Kit:
    api: httpx.AsyncClient
    ctx: ServiceContext
    payin_currency: str
    store: processing.StoreKit
    trader: processing.TraderKit
    payout_currency: str
    payout_store: processing.StoreKit
    payout_trader: processing.TraderKit


async def kit(api: httpx.AsyncClient, ctx: ServiceContext) -> Kit:
    """A pay-in store and trader; a funded pay-out store (no review window) and its trader."""
    payin_currency, payout_currency = processing.new_currency(ctx), processing.new_currency(ctx)
    store = processing.make_store(ctx, payin_currency)
    trader = await processing.make_trader(api, ctx, payin_currency, requisites=5)
    admin = await login(api, create_user(ctx.engine, Role.admin).email)
    pstore = payout_store(ctx, payout_currency)
    await fund_store(api, admin, pstore, "20000.00")
    ptrader = await payout_trader(api, ctx, payout_currency, max_open_payouts=10)
    return Kit(api, ctx, payin_currency, store, trader, payout_currency, pstore, ptrader)


async def payin(k: Kit, amount: int, claimed: bool = False) -> str:
    """A pay-in matched (awaiting_payment), or with the customer's payment claimed."""
    post = partial(k.api.post, headers=k.store.headers)
    body = processing.payin_body(k.payin_currency, f"{amount}.00")
    order_id = str((await ok(partial(post, "/api/gateway/payins", json=body)))["id"])
    await until(partial(reached, k.ctx, order_id, "awaiting_payment"), 60)
    if claimed:
        await ok(partial(post, f"/api/gateway/payins/{order_id}/paid"))
        await until(partial(reached, k.ctx, order_id, "payment_claimed"), 60)
    return order_id


async def complete_payin(k: Kit, order_id: str) -> None:
    url = f"/api/gateway/payins/{order_id}"
    if not reached(k.ctx, order_id, "payment_claimed"):
        await ok(partial(k.api.post, f"{url}/paid", headers=k.store.headers))
        await until(partial(reached, k.ctx, order_id, "payment_claimed"), 60)
    confirm = f"/api/trader/orders/{order_id}/confirm"
    await ok(partial(k.api.post, confirm, headers=k.trader.headers))


async def payout(k: Kit, taken: bool = False) -> str:
    """A pay-out held and in the pool, or taken by the trader."""
    body = payout_body(k.payout_currency)
    post = partial(k.api.post, "/api/gateway/payouts", json=body, headers=k.payout_store.headers)
    order_id = str((await ok(post))["id"])
    await until(partial(held, k.ctx, order_id), 60)
    if taken:
        await take(k, order_id)
    return order_id


async def take(k: Kit, order_id: str) -> None:
    url = f"/api/trader/payouts/{order_id}/take"
    await ok(partial(k.api.post, url, headers=k.payout_trader.headers))
    await until(partial(reached, k.ctx, order_id, "assigned"), 60)


async def complete_payout(k: Kit, order_id: str) -> None:
    if reached(k.ctx, order_id, "created"):
        await take(k, order_id)
    url = f"/api/trader/payouts/{order_id}/paid"
    await ok(partial(k.api.post, url, headers=k.payout_trader.headers, files=PROOF))


Onboarding = WorkflowHandle[OnboardingWorkflowB, c.OnboardingProgress]


async def onboarding(
    ctx: ServiceContext, client: Client, queue: str, bank: str, slot: int
) -> tuple[Onboarding, uuid.UUID]:
    """A Connect user's onboarding at one bank; at SBank it waits for the consent to be
    approved in the bank's own app (not yet)."""
    user = create_user(ctx.engine, Role.connect_user, external_client_id=f"team042-{slot}")
    handle = await client.start_workflow(
        OnboardingWorkflowB.run,
        c.OnboardingInput(str(user.id), [bank], poll_initial_seconds=0.5),
        id=c.onboarding_workflow_id(str(user.id)),
        task_queue=queue,
    )
    if bank == "sbank":
        await wait_until(lambda: pending_request(ctx, user.id), what="a pending consent")
    return handle, user.id


async def approved_at_the_bank(ctx: ServiceContext, handle: Onboarding, user_id: uuid.UUID) -> None:
    decide = {"request_id": pending_request(ctx, user_id)}
    await emulator_admin(emulator_of(ctx), "sbank", "consents/decide", decide)
    await handle.signal(c.OnboardingSignal.consent_check, "sbank")


TRANSIENT = {RPCStatusCode.CANCELLED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}


async def polling(client: Client, queue: str, build: Build) -> None:
    """Until the build's worker polls the queue (its identity is `pid@host`)."""
    assert build.proc is not None
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )

    async def polls() -> bool:
        try:
            answer = await client.workflow_service.describe_task_queue(request, retry=True)
        except RPCError as error:
            # The dev server under load cancels or times out a call now and then: ask again.
            if error.status not in TRANSIENT:
                raise
            return False
        return any(p.identity.startswith(f"{build.proc.pid}@") for p in answer.pollers)  # type: ignore[union-attr]

    await wait_until(polls, 60, "build B polling")


async def failed_tasks(client: Client, queue: str, drill_ids: list[str]) -> dict[str, int]:
    """Failed workflow tasks (a non-determinism error is one) of the drill's runs and of
    every run on the queue."""
    runs: set[tuple[str, str | None]] = {(workflow_id, None) for workflow_id in drill_ids}
    async for run in client.list_workflows(f"TaskQueue = '{queue}'"):
        runs.add((run.id, run.run_id))
    failed: dict[str, int] = {}
    for workflow_id, run_id in runs:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        history = await handle.fetch_history()
        count = sum(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events
        )
        if count:
            failed[workflow_id] = count
    return failed


async def memo_of(client: Client, workflow_id: str) -> dict[str, object]:
    return dict(await (await client.get_workflow_handle(workflow_id).describe()).memo())


async def assert_none_stuck(client: Client, queue: str, drill_ids: list[str]) -> None:
    """The drill's runs, and every run of their kinds on the queue (children too), completed."""
    runs: list[tuple[str, str | None]] = [(workflow_id, None) for workflow_id in drill_ids]
    async for run in client.list_workflows(f"TaskQueue = '{queue}'"):
        if run.workflow_type in DRILL_TYPES:
            runs.append((run.id, run.run_id))
    for workflow_id, run_id in runs:
        described = await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
        assert described.status == WorkflowExecutionStatus.COMPLETED, (workflow_id, described)


def rollout_env(ctx: ServiceContext, queue: str) -> dict[str, str]:
    env = worker_env(ctx, queue, log_level="INFO")
    env["BANK_BASE_URLS"] = json.dumps(ctx.settings.bank_base_urls)
    env["RATES_PROVIDER_URL"] = ctx.settings.rates_provider_url
    return env


async def test_worker_rollout_from_build_a_to_a_patched_build_b(
    ctx: ServiceContext, temporal_client: Client, drill_queue: str, tmp_path: Path
) -> None:
    client, env = temporal_client, rollout_env(ctx, drill_queue)
    a = Build(env, ["worker.py"], tmp_path / "build-a.log")
    b = Build(env, ["-m", "tests.operations.rollout_b_worker"], tmp_path / "build-b.log")
    a.start()
    try:
        async with drill_app(ctx, temporal_task_queue=drill_queue) as api:
            k = await kit(api, ctx)
            # Build A: runs mid-flight, each waiting for a person or a bank.
            payins_a = [await payin(k, 1501), await payin(k, 1502, claimed=True)]
            payouts_a = [await payout(k), await payout(k, taken=True)]
            onboarding_a, user_id = await onboarding(ctx, client, drill_queue, "sbank", 8)
            # Build B joins the queue; A drains (SIGTERM: graceful shutdown) and exits.
            b.start()
            await polling(client, drill_queue, b)
            a.stop()
            assert a.proc is not None and a.proc.returncode == 0, a.output()[-2000:]
            assert "worker stopped" in a.output()
            # Runs started now are B's.
            payins_b, payouts_b = [await payin(k, 1503)], [await payout(k)]
            onboarding_b, _ = await onboarding(ctx, client, drill_queue, "vbank", 9)
            # B finishes A's runs and its own.
            for order_id in payins_a + payins_b:
                await complete_payin(k, order_id)
            for order_id in payouts_a + payouts_b:
                await complete_payout(k, order_id)
            await approved_at_the_bank(ctx, onboarding_a, user_id)
            progress = [await onboarding_a.result(), await onboarding_b.result()]
            for order_id in payins_a + payins_b + payouts_a + payouts_b:
                await until(partial(reached, ctx, order_id, "completed"), 60)
    finally:
        a.kill()
        b.stop()
        b.kill()
    assert [bank.status for p in progress for bank in p.banks] == ["ready", "ready"], progress
    assert_ledger_sound(ctx, k.payin_currency)
    assert_ledger_sound(ctx, k.payout_currency)
    ids_a = [order_workflow_id(OrderKind.payin, o) for o in payins_a]
    ids_a += [order_workflow_id(OrderKind.payout, o) for o in payouts_a]
    ids_b = [order_workflow_id(OrderKind.payin, o) for o in payins_b]
    ids_b += [order_workflow_id(OrderKind.payout, o) for o in payouts_b]
    ids_a, ids_b = [*ids_a, onboarding_a.id], [*ids_b, onboarding_b.id]
    drill_ids = [*ids_a, *ids_b]
    assert await failed_tasks(client, drill_queue, drill_ids) == {}
    for build in (a, b):
        assert "nondetermin" not in build.output().lower()
    await assert_none_stuck(client, drill_queue, drill_ids)
    for workflow_id in ids_a:
        assert set(await memo_of(client, workflow_id)) == {FINISHED}, workflow_id
    for workflow_id in ids_b:
        assert set(await memo_of(client, workflow_id)) == {STARTED, FINISHED}, workflow_id
    await assert_replays(client, ids_a[0], ids_b[0])


async def assert_replays(client: Client, begun_on_a: str, begun_on_b: str) -> None:
    """B's code replays both runs. A's code replays neither: the run A began went past the
    end-of-run patch on B (its history holds that marker), the run B began holds both
    markers. So once B has run, A is no rollback target: roll forward."""
    on_a = await client.get_workflow_handle(begun_on_a).fetch_history()
    on_b = await client.get_workflow_handle(begun_on_b).fetch_history()
    build_b = Replayer(workflows=[PayinWorkflowB], workflow_runner=WORKFLOW_RUNNER)
    await build_b.replay_workflow(on_a)
    await build_b.replay_workflow(on_b)
    build_a = Replayer(workflows=[PayinWorkflow], workflow_runner=WORKFLOW_RUNNER)
    with pytest.raises(NondeterminismError, match=PATCH_AT_END):
        await build_a.replay_workflow(on_a)
    with pytest.raises(NondeterminismError, match=PATCH_AT_START):
        await build_a.replay_workflow(on_b)
