"""Committed workflow histories replay against today's workflow code.

A change to a workflow that would break runs already in flight (non-determinism) fails here;
such a change needs `workflow.patched(...)`. Every workflow type has at least one history.
`RECORD_HISTORIES=missing pytest tests/replay` records the kinds that have none yet;
`RECORD_HISTORIES=all` records every kind afresh (only when the old ones no longer matter).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from contracts.analytics import RecategoriseAllInput, RefreshInput
from contracts.bridge import statement_watch_id
from contracts.rates import RATES_WORKFLOW, RatesRefreshInput, RatesRefreshResult
from contracts.reconcile import RECONCILE_WORKFLOW, ReconcileInput, ReconcileResult
from core.context import ServiceContext
from models.merchants import Store
from models.users import Role
from tests.connect.helpers import (
    connect_user,
    emulator_admin,
    emulator_of,
    onboard,
    onboard_at_bank,
    wait_until,
)
from tests.factories import create_user, login
from tests.processing.bridge_kit import RUB, bank_credit, bridge_trader, link
from tests.processing.conftest import (
    CallbackReceiver,
    make_store,
    make_trader,
    new_currency,
    payin_body,
)
from tests.processing.payout_kit import (
    PNG,
    fund_store,
    payout_body,
    payout_store,
    payout_trader,
    wait_payout,
)
from worker import WORKFLOW_RUNNER, WORKFLOWS
from workflows.recategorise import RecategoriseWorkflow
from workflows.refresh import RefreshWorkflow

HISTORIES = Path(__file__).parent / "histories"
RECORDING = os.environ.get("RECORD_HISTORIES", "")
KINDS = {
    "payin-completed": "PayinWorkflow",
    # Since the lean-v1 patch: local activities, the callback's first attempt in the order.
    "payin-lean-completed": "PayinWorkflow",
    # Since lean-v2: the event's delivery row is written in the transition's transaction.
    "payin-lean2-completed": "PayinWorkflow",
    # Since settle-first: an action that arrives while a transition is in flight waits for it.
    "payin-settle-first-completed": "PayinWorkflow",
    "payout-completed": "PayoutWorkflow",
    "payout-settle-first-completed": "PayoutWorkflow",
    "payout-disputed-resolved": "PayoutWorkflow",
    "callback-delivered": "CallbackWorkflow",
    "onboarding-vbank": "OnboardingWorkflow",
    "sync-vbank": "SyncWorkflow",
    # Since the sync-lean-v1 patch: progress and finish as local activities, agreements
    # beside the pages, search attributes set by the starter (onboarding, refresh).
    "onboarding-lean-vbank": "OnboardingWorkflow",
    "sync-lean-vbank": "SyncWorkflow",
    "refresh-lean": "RefreshWorkflow",
    "revoke-consent": "RevokeConsentWorkflow",
    # Since revoke-confirm-v1: the bank still held the consent, probed until it let go.
    "revoke-consent-pending": "RevokeConsentWorkflow",
    "refresh": "RefreshWorkflow",
    "recategorise": "RecategoriseWorkflow",
    "statement-watch": "StatementWatchWorkflow",
    "reconcile": "ReconcileWorkflow",
    "rates-refresh": "RatesRefreshWorkflow",
    # Recorded by tests/replay/test_funds_recording.py.
    "deposit-credited-two-approvers": "DepositWorkflow",
    "withdrawal-store-two-approvers-completed": "WithdrawalWorkflow",
    # Recorded by tests/replay/test_notification_recording.py.
    "notification-web": "NotificationWorkflow",
    "notification-sweep": "NotificationSweepWorkflow",
}


def _committed() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


@pytest.mark.skipif(bool(RECORDING), reason="recording new histories")
@pytest.mark.parametrize("path", _committed(), ids=lambda p: p.stem)
async def test_committed_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=WORKFLOW_RUNNER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.skipif(bool(RECORDING), reason="recording new histories")
def test_every_workflow_type_has_a_history() -> None:
    committed = {p.stem for p in _committed()}
    assert set(KINDS) <= committed
    registered = {getattr(w, "__temporal_workflow_definition").name for w in WORKFLOWS}
    assert registered <= set(KINDS.values()), registered - set(KINDS.values())


def _wanted(name: str) -> bool:
    return RECORDING == "all" or not (HISTORIES / f"{name}.json").exists()


async def _save(client: Client, workflow_id: str, name: str) -> None:
    if not _wanted(name):
        return
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    text = json.dumps(json.loads(history.to_json()), indent=1)
    await asyncio.to_thread((HISTORIES / f"{name}.json").write_text, text + "\n")


async def _first_id(client: Client, query: str) -> str:
    for _ in range(100):
        async for execution in client.list_workflows(query):
            return execution.id
        await asyncio.sleep(0.2)
    raise AssertionError(f"no workflow for {query}")


@pytest.mark.skipif(not RECORDING, reason="set RECORD_HISTORIES=missing (or all) to record")
async def test_record_histories(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    temporal_client: Client,
    worker: None,
) -> None:
    if _wanted("statement-watch"):
        await _record_statement_watch(api, ctx, temporal_client)
    receiver = CallbackReceiver()
    try:
        await _record_processing(api, ctx, temporal_client, receiver.url)
    finally:
        receiver.close()
    await _record_connect(api, ctx, temporal_client)
    if _wanted("revoke-consent-pending"):
        await _record_revoke_pending(api, ctx, temporal_client)
    if _wanted("reconcile"):
        await _record_reconcile(ctx, temporal_client)
    if _wanted("rates-refresh"):
        await _record_rates_refresh(ctx, temporal_client)


async def _record_reconcile(ctx: ServiceContext, temporal_client: Client) -> None:
    """One pass of the orphan reconciler, as its schedule starts it."""
    workflow_id = f"reconcile-{uuid.uuid4().hex[:8]}"
    await temporal_client.execute_workflow(
        RECONCILE_WORKFLOW,
        ReconcileInput(grace_seconds=3600),
        id=workflow_id,
        task_queue=ctx.settings.temporal_task_queue,
        result_type=ReconcileResult,
    )
    await _save(temporal_client, workflow_id, "reconcile")


async def _record_rates_refresh(ctx: ServiceContext, temporal_client: Client) -> None:
    """One fetch of the rate provider (the bundled emulator), as its schedule starts it."""
    workflow_id = f"refresh-rates-{uuid.uuid4().hex[:8]}"
    await temporal_client.execute_workflow(
        RATES_WORKFLOW,
        RatesRefreshInput(),
        id=workflow_id,
        task_queue=ctx.settings.temporal_task_queue,
        result_type=RatesRefreshResult,
    )
    await _save(temporal_client, workflow_id, "rates-refresh")


async def _record_processing(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, callback_url: str
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, callback_url=callback_url)
    trader = await make_trader(api, ctx, currency)
    order = (
        await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    ).json()
    await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store.headers)
    done = await api.post(f"/api/trader/orders/{order['id']}/confirm", headers=trader.headers)
    assert done.json()["status"] == "completed"
    await temporal_client.get_workflow_handle(f"payin-{order['id']}").result()  # callback too
    await _save(temporal_client, f"payin-{order['id']}", "payin-completed")
    await _save(temporal_client, f"payin-{order['id']}", "payin-lean-completed")
    await _save(temporal_client, f"payin-{order['id']}", "payin-lean2-completed")
    await _save(temporal_client, f"payin-{order['id']}", "payin-settle-first-completed")
    if _wanted("callback-delivered"):
        callback = await _first_id(
            temporal_client, "WorkflowType = 'CallbackWorkflow' AND ExecutionStatus = 'Completed'"
        )
        await _save(temporal_client, callback, "callback-delivered")
    await _record_payouts(api, ctx, temporal_client, callback_url)


async def _record_payouts(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, callback_url: str
) -> None:
    admin = await login(api, create_user(ctx.engine, Role.admin).email)
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, callback_url=callback_url)
    await fund_store(api, admin, store, "5000.00")
    trader = await payout_trader(api, ctx, currency)
    proof = {"proof": ("p.png", PNG, "image/png")}

    async def taken_and_paid() -> str:
        payout = (
            await api.post(
                "/api/gateway/payouts", json=payout_body(currency), headers=store.headers
            )
        ).json()
        await api.post(f"/api/trader/payouts/{payout['id']}/take", headers=trader.headers)
        await api.post(
            f"/api/trader/payouts/{payout['id']}/paid", files=proof, headers=trader.headers
        )
        return str(payout["id"])

    completed = await taken_and_paid()
    await wait_payout(api, store, completed, "completed")
    await temporal_client.get_workflow_handle(f"payout-{completed}").result()
    await _save(temporal_client, f"payout-{completed}", "payout-completed")
    await _save(temporal_client, f"payout-{completed}", "payout-settle-first-completed")

    with Session(ctx.engine) as session:
        row = session.get(Store, store.store_id)
        assert row is not None
        row.payout_review_seconds = 600
        session.add(row)
        session.commit()
    disputed = await taken_and_paid()
    await api.post(
        f"/api/gateway/payouts/{disputed}/dispute",
        data={"reason": "recipient got less"},
        headers=store.headers,
    )
    resolved = await api.post(
        f"/api/admin/orders/{disputed}/resolve",
        json={"outcome": "completed", "actual_amount": "600.00", "reason": "statement"},
        headers=admin,
    )
    assert resolved.json()["status"] == "completed", resolved.text
    await temporal_client.get_workflow_handle(f"payout-{disputed}").result()
    await _save(temporal_client, f"payout-{disputed}", "payout-disputed-resolved")


async def _record_connect(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client
) -> None:
    user = await connect_user(api, ctx, slot=10)
    await onboard(temporal_client, ctx, user.user_id, ["vbank"])
    onboarding = await _first_id(
        temporal_client,
        f"WorkflowType = 'OnboardingWorkflow' AND ConnectUserId = '{user.user_id}'",
    )
    await _save(temporal_client, onboarding, "onboarding-vbank")
    await _save(temporal_client, onboarding, "onboarding-lean-vbank")
    # Each bank analysed as soon as it is ready (the snapshot-per-bank patch).
    await _save(temporal_client, onboarding, "onboarding-per-bank-vbank")
    await _save(temporal_client, f"sync-{user.user_id}-vbank", "sync-vbank")
    await _save(temporal_client, f"sync-{user.user_id}-vbank", "sync-lean-vbank")

    refresh_id = f"refresh-record-{uuid.uuid4().hex[:8]}"
    await temporal_client.execute_workflow(
        RefreshWorkflow.run,
        RefreshInput(str(user.user_id)),
        id=refresh_id,
        task_queue=ctx.settings.temporal_task_queue,
    )
    await _save(temporal_client, refresh_id, "refresh")
    await _save(temporal_client, refresh_id, "refresh-lean")

    recategorise_id = f"recategorise-record-{uuid.uuid4().hex[:8]}"
    await temporal_client.execute_workflow(
        RecategoriseWorkflow.run,
        RecategoriseAllInput(reason="recording"),
        id=recategorise_id,
        task_queue=ctx.settings.temporal_task_queue,
    )
    await _save(temporal_client, recategorise_id, "recategorise")

    consents = (await api.get("/api/consents", headers=user.headers)).json()
    accounts = next(c for c in consents if c["kind"] == "accounts")
    revoked = await api.delete(f"/api/consents/{accounts['id']}", headers=user.headers)
    workflow_id = revoked.json()["workflow_id"]
    await temporal_client.get_workflow_handle(workflow_id).result()
    await _save(temporal_client, workflow_id, "revoke-consent")


async def _record_revoke_pending(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client
) -> None:
    """A consent approved in SBank's app, whose id the bank never shows: the revoke stays
    pending until the user revokes it there and says so."""
    emulator = emulator_of(ctx)
    user = await connect_user(api, ctx, slot=9)
    await emulator_admin(emulator, "sbank", "behaviour", {"user_consent_list": False})
    try:
        await onboard_at_bank(api, ctx, temporal_client, user)
        consents = (await api.get("/api/consents", headers=user.headers)).json()
        accounts = next(c for c in consents if c["kind"] == "accounts")
        revoke = await api.delete(f"/api/consents/{accounts['id']}", headers=user.headers)
        workflow_id = revoke.json()["workflow_id"]

        async def pending() -> bool:
            rows = (await api.get("/api/consents", headers=user.headers)).json()
            return any(c["status"] == "revoke_pending" for c in rows)

        await wait_until(pending, what="revoke pending")
        await emulator_admin(emulator, "sbank", "consents/revoke", {"client_id": "team042-9"})
        await api.post("/api/banks/sbank/consent/check", headers=user.headers)
        await temporal_client.get_workflow_handle(workflow_id).result()
        await _save(temporal_client, workflow_id, "revoke-consent-pending")
    finally:
        await emulator_admin(emulator, "sbank", "behaviour", {"user_consent_list": True})


async def _record_statement_watch(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client
) -> None:
    """A trader's watch from the first match to its end: a credit completes the pay-in."""
    kit = await bridge_trader(api, ctx, slot=8, bank="vbank", sub_type="Checking")
    assert (await link(api, kit)).status_code == 200
    store = make_store(ctx, RUB)
    body = payin_body(RUB, bank_code=kit.platform_bank)
    order = (await api.post("/api/gateway/payins", json=body, headers=store.headers)).json()
    await bank_credit(ctx, kit, order["amount"])
    watch = statement_watch_id(str(kit.trader_id))
    await temporal_client.get_workflow_handle(watch).result()
    await _save(temporal_client, watch, "statement-watch")
