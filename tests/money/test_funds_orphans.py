"""No deposit or withdrawal is left behind: a request committed (a withdrawal's hold with it)
whose workflow never started — the engine was down at the create, or the API died between the
commit and the start — is started by the orphan reconciler's pass after the orders' grace
period, and then goes through like any other. A cabinet create retried with the same
`Idempotency-Key` holds once. Real Temporal, database and S3."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import Session
from temporalio.client import Client

from contracts.funds import OwnerKind, deposit_workflow_id, withdrawal_workflow_id
from contracts.reconcile import RECONCILE_WORKFLOW, ReconcileInput, ReconcileResult
from core.context import ServiceContext
from models.funds import Deposit, Withdrawal
from models.ledger import AccountKind
from processing.funds import deposits
from processing.funds.common import Owner
from processing.orders.engine import workflow_exists
from tests.money.funds_kit import (
    CARD,
    code_of,
    ledger,
    merchant_headers,
    saved_without_start,
    staff,
)
from tests.money.funds_kit import withdrawal_body as body
from tests.processing.conftest import TraderKit, make_trader, new_currency
from tests.processing.payout_kit import fund_store, ledger_sum, payout_store

pytestmark = pytest.mark.usefixtures("worker")
FUNDED = 100_000_000  # make_trader's balance: 1 000 000.00


async def reconcile_pass(client: Client, ctx: ServiceContext, grace_s: int) -> ReconcileResult:
    """One pass of the real ReconcileWorkflow (what the schedule runs every minute)."""
    return await client.execute_workflow(
        RECONCILE_WORKFLOW,
        ReconcileInput(grace_seconds=grace_s),
        id=f"reconcile-test-{uuid.uuid4().hex[:8]}",
        task_queue=ctx.settings.temporal_task_queue,
        result_type=ReconcileResult,
    )


async def trader_and_admin(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> tuple[str, TraderKit, dict[str, str]]:
    """A currency of the test's own, a trader funded in it, and an admin's login."""
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0)
    _, admin = await staff(api, ctx)
    return currency, trader, admin


async def test_a_withdrawal_never_started_is_started_by_the_reconciler_and_completes(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client
) -> None:
    currency, trader, admin = await trader_and_admin(api, ctx)
    row = saved_without_start(ctx, trader.trader_id, body(currency))
    workflow_id = withdrawal_workflow_id(str(row.id))
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED, 101_000)
    assert not await workflow_exists(temporal_client, workflow_id)

    # Younger than the grace period: it may still be starting, left alone.
    young = await reconcile_pass(temporal_client, ctx, 3600)
    assert str(row.id) not in young.started
    assert not await workflow_exists(temporal_client, workflow_id)

    swept = await reconcile_pass(temporal_client, ctx, 0)
    assert str(row.id) in swept.started
    assert await workflow_exists(temporal_client, workflow_id)
    with Session(ctx.engine) as session:
        saved = session.get(Withdrawal, row.id)
        assert saved is not None and saved.workflow_started_at is not None
    again = await reconcile_pass(temporal_client, ctx, 0)
    assert str(row.id) not in again.started

    url = f"/api/admin/withdrawals/{row.id}"
    approved = await api.post(f"{url}/approve", headers=admin)
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    paid = await api.post(f"{url}/paid", data={"tx_hash": "ab" * 32}, headers=admin)
    assert paid.json()["status"] == "completed", paid.text
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED - 101_000, 0)
    assert ledger_sum(ctx, currency) == 0


async def test_a_deposit_never_started_is_started_by_the_reconciler_and_credited(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client
) -> None:
    currency, trader, admin = await trader_and_admin(api, ctx)
    owner = Owner(OwnerKind.trader, trader.trader_id)
    request = Deposit(
        owner_kind=owner.kind,
        owner_id=owner.owner_id,
        currency=currency,
        amount_minor=50_000,
        reference=uuid.uuid4().hex,
        tx_hash="cd" * 32,
    )
    with Session(ctx.engine, expire_on_commit=False) as session:
        row, created = deposits.find_or_create(session, owner, request)
    assert created
    workflow_id = deposit_workflow_id(str(row.id))
    assert not await workflow_exists(temporal_client, workflow_id)

    swept = await reconcile_pass(temporal_client, ctx, 0)
    assert str(row.id) in swept.started
    assert await workflow_exists(temporal_client, workflow_id)

    approved = await api.post(f"/api/admin/deposits/{row.id}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "credited"
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED + 50_000, 0)


async def test_a_cabinet_withdrawal_sent_twice_with_one_key_holds_once(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    headers = trader.headers | key
    first = await api.post("/api/trader/withdrawals", json=body(currency), headers=headers)
    assert first.status_code == 201, first.text
    again = await api.post("/api/trader/withdrawals", json=body(currency), headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await api.post("/api/trader/withdrawals", json=body(currency, "5.00"), headers=headers)
    assert other.status_code == 409 and code_of(other) == "idempotency_key_reused"
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (FUNDED, 101_000)

    # A merchant's, naming the store: the key is the store's.
    store = payout_store(ctx, currency)
    await fund_store(api, admin_headers, store, "5000.00")
    merchant = await merchant_headers(api, ctx, store) | key
    sent = body(currency, "200.00", "card", CARD) | {"store_id": str(store.store_id)}
    one = await api.post("/api/merchant/withdrawals", json=sent, headers=merchant)
    two = await api.post("/api/merchant/withdrawals", json=sent, headers=merchant)
    assert (one.status_code, two.status_code) == (201, 201), two.text
    assert two.json()["id"] == one.json()["id"]
    assert two.headers["Idempotent-Replayed"] == "true"
    changed = sent | {"amount": "300.00"}
    reused = await api.post("/api/merchant/withdrawals", json=changed, headers=merchant)
    assert reused.status_code == 409 and code_of(reused) == "idempotency_key_reused"
    assert ledger(ctx, AccountKind.store, store.store_id, currency) == (500_000, 20_200)
