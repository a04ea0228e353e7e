"""The dashboard for the emulator's seeded users, fed by real onboarding over HTTP, and a
re-sync after new bank transactions changing the figures by exactly what was added."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session, select
from temporalio.client import Client

from contracts.analytics import RefreshInput
from core.context import ServiceContext
from models.banking import BankAccount
from tests.connect.helpers import connect_user, emulator_admin, onboard
from tests.factories import Actor
from workflows.refresh import RefreshWorkflow

BANKS = ["vbank", "abank", "sbank"]


async def _onboarded(
    api: httpx.AsyncClient, ctx: ServiceContext, client: Client, slot: int
) -> tuple[Actor, dict[str, Any]]:
    user = await connect_user(api, ctx, slot=slot)
    progress = await onboard(client, ctx, user.user_id, BANKS, allow_sandbox_sign=True)
    assert {b.status for b in progress.banks} == {"ready"}, progress
    body = (await api.get("/api/dashboard", headers=user.headers)).json()
    assert body["status"] == "ready", body
    return user, body


async def test_seeded_user_with_loans_and_deposits(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    _, body = await _onboarded(api, ctx, temporal_client, slot=1)
    m = body["metrics"]
    assert {b["bank_code"]: b["status"] for b in body["banks"]} == dict.fromkeys(BANKS, "ready")
    assert len(body["accounts"]) >= 6
    assert m["total_debt"]["value"] > 0 and body["debts"]
    assert m["dsti_band"] in {"fine", "caution", "high", "critical"}
    assert 0 <= m["health"]["score"] <= 100
    assert m["health"]["tier"] in {"Healthy", "Coping", "Vulnerable"}
    # Every headline figure says how it was computed.
    for name in ("safe_to_spend", "total_debt", "dsti"):
        assert m[name]["inputs"], name
    assert m["overspent"] is (m["safe_to_spend"]["value"] < 0)


async def test_seeded_user_without_loans(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    _, body = await _onboarded(api, ctx, temporal_client, slot=3)
    m = body["metrics"]
    assert m["total_debt"]["value"] == 0
    assert body["debts"] == []
    assert m["next_payment"] is None


async def test_seeded_user_with_only_a_loan(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    _, body = await _onboarded(api, ctx, temporal_client, slot=9)
    kinds = {a["kind"] for a in body["accounts"]}
    assert kinds == {"liability"}, kinds
    assert body["metrics"]["total_debt"]["value"] > 0
    assert body["debts"]


async def test_new_bank_transactions_change_the_figures_after_a_refresh(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user, before = await _onboarded(api, ctx, temporal_client, slot=4)
    month = (await api.get("/api/transactions/summary?period=month", headers=user.headers)).json()
    rub = next(c for c in month["currencies"] if c["currency"] == "RUB")
    with Session(ctx.engine) as session:
        checking = session.exec(
            select(BankAccount).where(
                BankAccount.user_id == user.user_id,
                BankAccount.bank_code == "vbank",
                BankAccount.sub_type == "Checking",
            )
        ).first()
    assert checking is not None
    spent = {
        "amount": "4321.00",
        "information": "🛒 Продукты",
        "merchant_name": "Пятёрочка",
        "mcc": "5411",
        "booking_date_time": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
        "transaction_id": f"tx-test-{uuid.uuid4().hex[:12]}",
    }
    body = {"client_id": "team042-4", "account_id": checking.external_id, "transactions": [spent]}
    emulator = ctx.settings.bank_base_urls["vbank"].rsplit("/", 1)[0]
    await emulator_admin(emulator, "vbank", "transactions", body)

    result = await temporal_client.execute_workflow(
        RefreshWorkflow.run,
        RefreshInput(str(user.user_id)),
        id=f"refresh-test-{uuid.uuid4().hex[:8]}",
        task_queue=ctx.settings.temporal_task_queue,
    )
    assert sorted(result.synced) == sorted(BANKS)
    after = (await api.get("/api/dashboard", headers=user.headers)).json()
    assert after["snapshot"]["id"] != before["snapshot"]["id"]
    month_after = (
        await api.get("/api/transactions/summary?period=month", headers=user.headers)
    ).json()
    rub_after = next(c for c in month_after["currencies"] if c["currency"] == "RUB")
    assert rub_after["spending"]["amount_minor"] - rub["spending"]["amount_minor"] == 432_100
    groceries = {c["category"]: c["amount_minor"] for c in rub["spending_by_category"]}
    groceries_after = {c["category"]: c["amount_minor"] for c in rub_after["spending_by_category"]}
    assert groceries_after["groceries"] - groceries.get("groceries", 0) == 432_100
