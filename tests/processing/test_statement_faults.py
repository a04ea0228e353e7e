"""The statement bridge when the bank misbehaves, and pay-out evidence, on real services.

A bank that answers 5xx or 429 during a watch never blocks anything: the trader is told
(`GET /api/trader/statement`), orders stay confirmable by hand, the watch backs off and, once
the bank is back, the waiting credit completes its order. A taken pay-out gets the trader's
outgoing debit as evidence when the debit names the recipient — never on amount alone."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlmodel import Session
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from contracts.bridge import WatchInput, WatchSummary, statement_watch_id
from core.context import ServiceContext
from core.metrics import registry
from models.traders import Trader
from tests.connect.helpers import emulator_admin
from tests.processing.bridge_kit import (
    RUB,
    BridgeTrader,
    bank_credit,
    bridge_trader,
    link,
    wait_for,
)
from tests.processing.conftest import make_store, payin_body
from tests.processing.payout_kit import fund_store, payout_body, payout_store, wait_payout
from workflows.statement_watch import StatementWatchWorkflow


async def _statement_status(
    api: httpx.AsyncClient, kit: BridgeTrader, wanted: str, tries: int = 150
) -> dict[str, Any]:
    view: dict[str, Any] = {}
    for _ in range(tries):
        view = (await api.get("/api/trader/statement", headers=kit.headers)).json()
        if view["status"] == wanted:
            return view
        await asyncio.sleep(0.2)
    raise AssertionError(f"statement status stayed {view.get('status')}, wanted {wanted}")


def _scans(status: str) -> float:
    """The watch's scans with that answer so far (the alert StatementWatchFailing reads them)."""
    return registry().get_sample_value("jivapay_statement_scans_total", {"status": status}) or 0


async def _faults(ctx: ServiceContext, **faults: object) -> None:
    emulator = ctx.settings.bank_base_urls["vbank"].rsplit("/", 1)[0]
    await emulator_admin(emulator, "vbank", "faults", dict(faults))


async def test_a_bank_outage_is_told_and_the_watch_resumes(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    kit = await bridge_trader(api, ctx, slot=8, bank="vbank", sub_type="Deposit")
    assert (await link(api, kit)).status_code == 200
    store = make_store(ctx, RUB)
    body = payin_body(RUB, bank_code=kit.platform_bank)
    order = (await api.post("/api/gateway/payins", json=body, headers=store.headers)).json()
    limited_before, down_before = _scans("rate_limited"), _scans("bank_unavailable")
    try:
        await _faults(ctx, rate_429=1.0, retry_after_s=1)
        limited = await _statement_status(api, kit, "rate_limited")
        assert "vbank" in limited["error"]
        assert _scans("rate_limited") > limited_before
        await _faults(ctx, rate_429=0.0, rate_5xx=1.0)
        await bank_credit(ctx, kit, order["amount"])  # lands while the bank is down
        down = await _statement_status(api, kit, "bank_unavailable")
        assert down["checked_at"] is not None
        assert _scans("bank_unavailable") > down_before
        path = f"/api/gateway/payins/{order['id']}"
        still = (await api.get(path, headers=store.headers)).json()
        assert still["status"] == "awaiting_payment"
    finally:
        await _faults(ctx, rate_429=0.0, rate_5xx=0.0)
    # back: the waiting credit completes the order, no trader action
    done = await wait_for(api, path, store.headers, {"completed"}, limit_s=60)
    assert done["status"] == "completed"
    assert (await _statement_status(api, kit, "ok"))["error"] is None


async def test_a_payout_debit_naming_the_recipient_is_evidence(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    kit = await bridge_trader(api, ctx, slot=8, bank="abank", sub_type="Checking")
    with Session(ctx.engine) as session:
        trader = session.get(Trader, kit.trader_id)
        assert trader is not None
        trader.payout_enabled = True
        session.add(trader)
        session.commit()
    assert (await link(api, kit)).status_code == 200
    store = payout_store(ctx, RUB)
    await fund_store(api, admin_headers, store, "5000.00")
    created = await api.post("/api/gateway/payouts", json=payout_body(RUB), headers=store.headers)
    assert created.status_code == 201, created.text
    payout = created.json()
    taken = await api.post(f"/api/trader/payouts/{payout['id']}/take", headers=kit.headers)
    assert taken.status_code == 200, taken.text
    await wait_payout(api, store, payout["id"], "assigned")
    timeline_path = f"/api/admin/orders/{payout['id']}/timeline"

    async def evidence() -> list[dict[str, Any]]:
        events = (await api.get(timeline_path, headers=admin_headers)).json()
        return [e for e in events if e["actor_type"] == "bank_statement"]

    # the amount alone (a debit that does not name the recipient) proves nothing: it is
    # booked first, so it was read (and refused) by the time the next one is evidence
    await bank_credit(
        ctx, kit, "1000.00", credit_debit_indicator="Debit", counterparty="Utility company"
    )
    tx_id = await bank_credit(
        ctx, kit, "1000.00", credit_debit_indicator="Debit", card_masked="411111******1111"
    )
    found: list[dict[str, Any]] = []
    for _ in range(100):
        found = await evidence()
        if found:
            break
        await asyncio.sleep(0.2)
    assert len(found) == 1
    assert found[0]["to_status"] == "assigned" and f"abank:{tx_id}" in found[0]["reason"]
    assert "****1111" in found[0]["reason"] and "4111111111111111" not in found[0]["reason"]
    # the pay-out's own lifecycle is untouched: still the trader's to mark paid
    mine = await api.get(f"/api/trader/payouts/{payout['id']}", headers=kit.headers)
    assert mine.json()["status"] == "assigned"


async def test_a_long_watch_continues_as_new_and_keeps_its_totals(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, temporal_client: Client
) -> None:
    kit = await bridge_trader(api, ctx, slot=8, bank="abank", sub_type="Savings")
    assert (await link(api, kit)).status_code == 200
    store = make_store(ctx, RUB)
    body = payin_body(RUB, bank_code=kit.platform_bank)
    order = (await api.post("/api/gateway/payins", json=body, headers=store.headers)).json()
    # the match started the watch; run it again with two scans per run
    watch_id = statement_watch_id(str(kit.trader_id))
    await temporal_client.get_workflow_handle(watch_id).terminate("test: shorter runs")
    handle = await temporal_client.start_workflow(
        StatementWatchWorkflow.run,
        WatchInput(str(kit.trader_id), scans_per_run=2),
        id=watch_id,
        task_queue=ctx.settings.temporal_task_queue,
    )
    first_run = handle.result_run_id
    for _ in range(100):
        if (await handle.describe()).run_id != first_run:
            break
        await asyncio.sleep(0.1)
    history = await temporal_client.get_workflow_handle(watch_id, run_id=first_run).fetch_history()
    assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    await bank_credit(ctx, kit, order["amount"])
    path = f"/api/gateway/payins/{order['id']}"
    assert (await wait_for(api, path, store.headers, {"completed"}, limit_s=30))["status"] == (
        "completed"
    )
    summary = await asyncio.wait_for(
        temporal_client.get_workflow_handle(watch_id, result_type=WatchSummary).result(), 30
    )
    assert summary.scans > 2 and summary.confirmed == 1
