"""The statement bridge end to end on real services: a trader connects their bank through
Connect (own sandbox identity, emulator in strict mode), links a requisite to the synced
account (the number checked at the bank), and credits added at the bank complete pay-ins
with no trader action — or are offered, flagged, or left as orphans, never guessed.

The suite's settings scan every second and give a hand confirmation 4 s to be backed."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta

import httpx
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowExecutionStatus

from contracts.bridge import WatchSummary, statement_watch_id
from core.context import ServiceContext
from models.base import as_utc
from models.orders import CallbackDelivery, Order
from models.statement import CreditOutcome, StatementCredit
from tests.connect.helpers import emulator_admin
from tests.processing.bridge_kit import (
    RUB,
    BridgeTrader,
    bank_credit,
    bridge_trader,
    link,
    minus,
    wait_for,
)
from tests.processing.conftest import make_store, payin_body


async def _payin(
    api: httpx.AsyncClient,
    store_headers: dict[str, str],
    kit: BridgeTrader,
    amount: str = "1500.00",
) -> dict:
    body = payin_body(RUB, amount, bank_code=kit.platform_bank)
    created = await api.post("/api/gateway/payins", json=body, headers=store_headers)
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "awaiting_payment"
    return dict(order)


def _credits(ctx: ServiceContext, kit: BridgeTrader) -> list[StatementCredit]:
    with Session(ctx.engine) as session:
        query = select(StatementCredit).where(StatementCredit.requisite_id == kit.requisite_id)
        return list(session.exec(query).all())


async def _unverified(api: httpx.AsyncClient, admin_headers: dict[str, str]) -> list[dict]:
    params = {"flag": "unverified_confirmation"}
    found = await api.get("/api/admin/flagged-orders", params=params, headers=admin_headers)
    return list(found.json())


async def _watch_status(client: Client, kit: BridgeTrader) -> WorkflowExecutionStatus | None:
    described = await client.get_workflow_handle(statement_watch_id(str(kit.trader_id))).describe()
    return described.status


async def test_link_checks_the_number_at_the_bank(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None
) -> None:
    kit = await bridge_trader(api, ctx, slot=6, bank="vbank", sub_type="Checking")
    accounts = (await api.get("/api/accounts", headers=kit.headers)).json()
    other = next(a for a in accounts if a["external_id"] != kit.account_external_id)
    path = f"/api/trader/requisites/{kit.requisite_id}/link"
    # another of my accounts: its number at the bank is not the requisite's
    wrong = await api.post(
        path, json={"bank": "vbank", "account_id": other["id"]}, headers=kit.headers
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "account_number_mismatch")
    # the right account named at another bank, an unknown bank, an account that is not mine
    body = {"bank": "abank", "account_id": str(kit.account_row_id)}
    assert (await api.post(path, json=body, headers=kit.headers)).status_code == 404
    body = {"bank": "nobank", "account_id": str(kit.account_row_id)}
    unknown = await api.post(path, json=body, headers=kit.headers)
    # the banks are an enum in the document
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "validation_error")
    body = {"bank": "vbank", "account_id": str(uuid.uuid4())}
    assert (await api.post(path, json=body, headers=kit.headers)).status_code == 404
    # nothing was linked by the refusals
    mine = (await api.get("/api/trader/requisites", headers=kit.headers)).json()
    assert [r["linked_account_id"] for r in mine] == [None]

    linked = await link(api, kit)
    assert linked.status_code == 200, linked.text
    assert linked.json()["linked_account_id"] == str(kit.account_row_id)
    assert "number" not in linked.json() and linked.json()["number_masked"].startswith("*")
    view = (await api.get("/api/trader/statement", headers=kit.headers)).json()
    assert view["linked_requisites"] == [str(kit.requisite_id)] and view["policy"] == "auto"
    unlinked = await api.delete(path, headers=kit.headers)
    assert unlinked.json()["linked_account_id"] is None
    # a requisite of another trader is not mine to link: 404, as if it did not exist
    stranger = await bridge_trader(api, ctx, slot=9, bank="vbank", sub_type="Loan")
    body = {"bank": "vbank", "account_id": str(kit.account_row_id)}
    taken = await api.post(path, json=body, headers=stranger.headers)
    assert (taken.status_code, taken.json()["error"]["code"]) == (404, "requisite_not_found")
    # nor my account theirs to link, nor my statement theirs to read, nor the admin lists
    own = f"/api/trader/requisites/{stranger.requisite_id}/link"
    foreign = await api.post(own, json=body, headers=stranger.headers)
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "account_not_found")
    theirs = (await api.get("/api/trader/statement", headers=stranger.headers)).json()
    assert theirs["linked_requisites"] == [] and theirs["suggestions"] == []
    for admin_path in ("/api/admin/statement-credits", "/api/admin/flagged-orders?flag=x"):
        assert (await api.get(admin_path, headers=stranger.headers)).status_code == 403


async def test_a_credit_completes_the_payin_with_no_trader_action(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    worker: None,
    temporal_client: Client,
    admin_headers: dict[str, str],
) -> None:
    kit = await bridge_trader(api, ctx, slot=8, bank="vbank", sub_type="Checking")
    assert (await link(api, kit)).status_code == 200
    store = make_store(ctx, RUB)
    order = await _payin(api, store.headers, kit)
    # the first match on a linked requisite started the trader's watch
    assert await _watch_status(temporal_client, kit) == WorkflowExecutionStatus.RUNNING
    tx_id = await bank_credit(ctx, kit, order["amount"])
    path = f"/api/gateway/payins/{order['id']}"
    done = await wait_for(api, path, store.headers, {"completed"}, limit_s=20)
    assert done["status"] == "completed"

    timeline = (
        await api.get(f"/api/admin/orders/{order['id']}/timeline", headers=admin_headers)
    ).json()
    last = timeline[-1]
    assert (last["to_status"], last["actor_type"]) == ("completed", "bank_statement")
    assert f"vbank:{tx_id}" in last["reason"] and order["amount"] in last["reason"]
    assert "Ivan P." in last["reason"]
    with Session(ctx.engine) as session:
        delivery = session.exec(
            select(CallbackDelivery).where(
                CallbackDelivery.order_id == uuid.UUID(order["id"]),
                CallbackDelivery.event_type == "payin.completed",
            )
        ).one()
    data = json.loads(delivery.body)["data"]
    assert data["confirmed_by"] == "bank_statement"
    assert data["bank_evidence"]["transaction_id"] == tx_id
    # the bridge's metrics (the suite's worker shares the API's process and registry)
    metrics = (await api.get("/metrics")).text
    assert 'jivapay_payin_confirmations_total{by="bank_statement"}' in metrics
    assert "jivapay_statement_booking_to_completed_seconds_count" in metrics

    # the bank delivering the same transaction again (and again) confirms nothing more
    second = await _payin(api, store.headers, kit, "1700.00")
    await bank_credit(ctx, kit, order["amount"], transaction_id=tx_id)
    # a credit for a closed order never completes it: an orphan for admin
    await api.post(
        f"/api/trader/orders/{second['id']}/cancel",
        json={"reason": "customer gave up"},
        headers=kit.headers,
    )
    keep_open = await _payin(api, store.headers, kit, "1900.00")  # the watch still scans
    late = await bank_credit(ctx, kit, second["amount"])
    orphans: list[dict] = []
    for _ in range(50):
        found = await api.get(
            "/api/admin/statement-credits", params={"outcome": "orphan"}, headers=admin_headers
        )
        orphans = [c for c in found.json() if c["amount"] == second["amount"]]
        if orphans:
            break
        await asyncio.sleep(0.2)
    assert len(orphans) == 1 and orphans[0]["order_id"] is None
    # the repeat was booked before the late credit, so it has been read by now: it added
    # nothing (one confirmed credit, and the orphan)
    outcomes = sorted(c.outcome for c in _credits(ctx, kit))
    assert outcomes == sorted([CreditOutcome.confirmed, CreditOutcome.orphan])
    cancelled = (await api.get(f"/api/gateway/payins/{second['id']}", headers=store.headers)).json()
    assert cancelled["status"] == "cancelled" and late

    # a hand confirmation no credit backs is flagged (after 4 s here), never blocked
    confirmed = await api.post(f"/api/trader/orders/{keep_open['id']}/confirm", headers=kit.headers)
    assert confirmed.json()["status"] == "completed"
    flagged: list[dict] = []
    for _ in range(75):
        flagged = await _unverified(api, admin_headers)
        if any(f["id"] == keep_open["id"] for f in flagged):
            break
        await asyncio.sleep(0.2)
    assert [f["flags"] for f in flagged if f["id"] == keep_open["id"]] == [
        ["unverified_confirmation"]
    ]
    # nothing is open any more: the watch ends by itself
    handle = temporal_client.get_workflow_handle(
        statement_watch_id(str(kit.trader_id)), result_type=WatchSummary
    )
    summary = await asyncio.wait_for(handle.result(), timeout=20)
    # A watch that found nothing open between two of these orders ended, and the next match
    # started it afresh: this last run's counts need not include the first confirmation
    # (asserted above from the timeline and the callback); it scanned, and it ended.
    assert summary.scans >= 1
    status = (await api.get("/api/trader/statement", headers=kit.headers)).json()
    assert status["status"] == "ok" and status["checked_at"] is not None


async def test_suggest_near_amount_and_a_revoked_consent(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    kit = await bridge_trader(api, ctx, slot=8, bank="vbank", sub_type="Savings")
    assert (await link(api, kit)).status_code == 200
    policy = await api.put(
        "/api/trader/statement/policy", json={"policy": "suggest"}, headers=kit.headers
    )
    assert policy.json()["policy"] == "suggest"
    bad = await api.put(
        "/api/trader/statement/policy", json={"policy": "guess"}, headers=kit.headers
    )
    assert bad.status_code == 422
    store = make_store(ctx, RUB)
    exact = await _payin(api, store.headers, kit)
    near = await _payin(api, store.headers, kit, "2500.00")
    await bank_credit(ctx, kit, exact["amount"])
    await bank_credit(ctx, kit, minus(near["amount"], 50))  # within the shift step (1.00)
    suggestions: list[dict] = []
    for _ in range(75):
        view = (await api.get("/api/trader/statement", headers=kit.headers)).json()
        suggestions = view["suggestions"]
        if len(suggestions) == 2:
            break
        await asyncio.sleep(0.2)
    outcomes = {s["order_id"]: s["outcome"] for s in suggestions}
    assert outcomes == {exact["id"]: "suggested", near["id"]: "near_amount"}
    # nothing was decided for the trader: both still await payment
    for order in (exact, near):
        still = (await api.get(f"/api/gateway/payins/{order['id']}", headers=store.headers)).json()
        assert still["status"] == "awaiting_payment"
    report = await api.get(f"/api/admin/orders/{near['id']}/match-report", headers=admin_headers)
    assert report.json()["flags"] == ["near_amount_credit"]
    # one click confirms the suggestion; it is backed by the credit, so never flagged
    clicked = await api.post(f"/api/trader/orders/{exact['id']}/confirm", headers=kit.headers)
    assert clicked.json()["status"] == "completed"

    # the consent is revoked at the bank while the near order is still open
    await emulator_admin(
        ctx.settings.bank_base_urls["vbank"].rsplit("/", 1)[0],
        "vbank",
        "consents/revoke",
        {"client_id": kit.client_id},
    )
    view = {}
    for _ in range(75):
        view = (await api.get("/api/trader/statement", headers=kit.headers)).json()
        if view["status"] == "consent_required":
            break
        await asyncio.sleep(0.2)
    assert view["status"] == "consent_required" and "vbank" in view["error"]
    # the order stays confirmable by hand
    by_hand = await api.post(f"/api/trader/orders/{near['id']}/confirm", headers=kit.headers)
    assert by_hand.json()["status"] == "completed"
    # a scan after the clicked confirmation's 4 s window did not flag it (credit-backed):
    # a new pay-in keeps the watch scanning until one is recorded past the window
    with Session(ctx.engine) as session:
        finished = session.get(Order, uuid.UUID(exact["id"]))
        assert finished is not None and finished.finished_at is not None
        window = timedelta(seconds=ctx.settings.unverified_confirmation_seconds)
        window_end = as_utc(finished.finished_at) + window
    await _payin(api, store.headers, kit, "2700.00")
    for _ in range(150):
        view = (await api.get("/api/trader/statement", headers=kit.headers)).json()
        if view["checked_at"] and as_utc(datetime.fromisoformat(view["checked_at"])) > window_end:
            break
        await asyncio.sleep(0.2)
    assert as_utc(datetime.fromisoformat(view["checked_at"])) > window_end
    assert exact["id"] not in {f["id"] for f in await _unverified(api, admin_headers)}
