"""Records the deposit and withdrawal histories `test_replay.py` replays (with
`RECORD_HISTORIES=missing` or `all`, like the others)."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import Session
from temporalio.client import Client

from contracts.funds import deposit_workflow_id, withdrawal_workflow_id
from core.context import ServiceContext
from models.ledger import AccountKind
from processing.ledger.postings import deposit
from tests.money.funds_kit import CARD, staff, withdrawal_body
from tests.processing.conftest import CallbackReceiver, make_trader, new_currency
from tests.processing.payout_kit import payout_store
from tests.replay.test_replay import RECORDING, _save, _wanted


@pytest.mark.skipif(not RECORDING, reason="set RECORD_HISTORIES=missing (or all) to record")
async def test_record_funds_histories(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    if _wanted("deposit-credited-two-approvers"):
        await _record_deposit(api, ctx, temporal_client)
    if _wanted("withdrawal-store-two-approvers-completed"):
        receiver = CallbackReceiver()
        try:
            await _record_withdrawal(api, ctx, temporal_client, receiver.url)
        finally:
            receiver.close()


async def _record_deposit(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client
) -> None:
    """A deposit above the threshold: confirmed by one admin, refused to the same admin
    again, credited by a second one."""
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency, requisites=0, balance_minor=0)
    (_, first), (_, second) = await staff(api, ctx), await staff(api, ctx)
    body = {"amount": "150000.00", "currency": currency, "reference": "r", "tx_hash": "a" * 64}
    deposit = (await api.post("/api/trader/deposits", data=body, headers=trader.headers)).json()
    url = f"/api/admin/deposits/{deposit['id']}/approve"
    await api.post(url, headers=first)
    assert (await api.post(url, headers=first)).status_code == 409
    assert (await api.post(url, headers=second)).json()["status"] == "credited"
    workflow_id = deposit_workflow_id(deposit["id"])
    await temporal_client.get_workflow_handle(workflow_id).result()
    await _save(temporal_client, workflow_id, "deposit-credited-two-approvers")


async def _record_withdrawal(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, callback_url: str
) -> None:
    """A store's withdrawal over the gateway above the threshold: two approvers, paid,
    completed, with its merchant's callbacks."""
    currency = new_currency(ctx)
    store = payout_store(ctx, currency, callback_url=callback_url)
    with Session(ctx.engine) as session:
        deposit(session, store.store_id, currency, 20_000_000, "record", AccountKind.store)
        session.commit()
    body = withdrawal_body(currency, "150000.00", "card", CARD)
    created = await api.post("/api/gateway/withdrawals", json=body, headers=store.headers)
    url = f"/api/admin/withdrawals/{created.json()['id']}"
    (_, first), (_, second) = await staff(api, ctx), await staff(api, ctx)
    await api.post(f"{url}/approve", headers=first)
    assert (await api.post(f"{url}/approve", headers=second)).json()["status"] == "approved"
    paid = await api.post(f"{url}/paid", data={"tx_hash": "d" * 64}, headers=second)
    assert paid.json()["status"] == "completed"
    workflow_id = withdrawal_workflow_id(created.json()["id"])
    await temporal_client.get_workflow_handle(workflow_id).result()
    await _save(temporal_client, workflow_id, "withdrawal-store-two-approvers-completed")
