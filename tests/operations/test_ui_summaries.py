"""The Temporal UI as the ops desk: a run says what it is (static summary, set at start)
and where it is (current details, updated on every transition), without its history."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from core.context import ServiceContext
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.processing.payout_kit import created


async def _details(client: Client, workflow_id: str) -> str:
    metadata = await client.get_workflow_handle(workflow_id).query("__temporal_workflow_metadata")
    return str(getattr(metadata, "current_details", ""))


async def test_a_payin_run_says_what_it_is_and_where_it_waits(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, temporal_client: Client
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency)
    body = payin_body(currency)
    order = await created(api, "/api/gateway/payins", body, store.headers)
    workflow_id = f"payin-{order['id']}"
    described = await temporal_client.get_workflow_handle(workflow_id).describe()
    summary = await described.static_summary()
    assert summary == (
        f"payin 1500.00 {currency} · store {str(store.store_id)[:8]} · {body['merchant_order_id']}"
    )
    matched = await _details(temporal_client, workflow_id)
    assert matched.startswith("**awaiting_payment** · trader ") and " · until " in matched

    await api.post(f"/api/gateway/payins/{order['id']}/paid", headers=store.headers)
    details = await _details(temporal_client, workflow_id)
    assert details.startswith("**payment_claimed** by customer · until ")
