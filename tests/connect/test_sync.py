"""Sync on a misbehaving bank: storms, token expiry, revoked consents, new transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, col, delete, select
from temporalio.client import Client

from connect.bank_access import BankAccess
from connect.bank_stores import acting_for
from core.context import ServiceContext
from models.banking import BankAccount
from models.connect import BankToken, RawApiLog
from models.users import Role
from tests.connect.helpers import (
    connect_user,
    emulator_admin,
    onboard,
    sync,
    sync_runs,
    transactions_of,
)
from tests.factories import Actor, actor


@pytest.fixture
async def vbank_user(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> AsyncIterator[Actor]:
    """A user with VBank connected and synced once; the bank's faults are cleared after."""
    user = await connect_user(api, ctx, slot=5)
    progress = await onboard(temporal_client, ctx, user.user_id, ["vbank"])
    assert progress.banks[0].status == "ready", progress
    yield user
    await emulator_admin(
        ctx.settings.bank_base_urls["vbank"].rsplit("/", 1)[0],
        "vbank",
        "faults",
        {"rate_429": 0, "rate_5xx": 0, "fail_next_429": 0, "fail_next_5xx": 0, "latency_ms": 0},
    )


def _emulator(ctx: ServiceContext) -> str:
    return ctx.settings.bank_base_urls["vbank"].rsplit("/", 1)[0]


async def test_second_sync_adds_nothing_and_new_transactions_are_added_once(
    vbank_user: Actor, ctx: ServiceContext, temporal_client: Client
) -> None:
    before = len(transactions_of(ctx, vbank_user.user_id))
    again = await sync(temporal_client, ctx, vbank_user.user_id, "vbank")
    assert again.status == "ready"
    assert again.transactions_added == 0 and again.transactions_updated == 0
    assert len(transactions_of(ctx, vbank_user.user_id)) == before

    with Session(ctx.engine) as session:
        checking = session.exec(
            select(BankAccount).where(
                BankAccount.user_id == vbank_user.user_id, BankAccount.sub_type == "Checking"
            )
        ).first()
    assert checking is not None
    now = datetime.now(UTC)
    new = [
        {"amount": "123.45", "information": "☕ Кофе", "booking_date_time": now.isoformat()},
        {
            "amount": "5000.00",
            "credit_debit_indicator": "Credit",
            "information": "💸 Перевод",
            "booking_date_time": (now - timedelta(minutes=5)).isoformat(),
        },
    ]
    created = await emulator_admin(
        _emulator(ctx),
        "vbank",
        "transactions",
        {"client_id": "team042-5", "account_id": checking.external_id, "transactions": new},
    )
    result = await sync(temporal_client, ctx, vbank_user.user_id, "vbank")
    assert result.transactions_added == 2
    stored = {t.external_id: t for t in transactions_of(ctx, vbank_user.user_id)}
    assert len(stored) == before + 2
    coffee, transfer = (stored[i] for i in created["transaction_ids"])
    assert (coffee.amount_minor, transfer.amount_minor) == (-12345, 500000)
    runs = sync_runs(ctx, vbank_user.user_id)
    assert [r.transactions_added for r in runs[-2:]] == [0, 2]


async def test_sync_survives_429_storm_and_5xx_burst(
    vbank_user: Actor, ctx: ServiceContext, temporal_client: Client
) -> None:
    await emulator_admin(
        _emulator(ctx),
        "vbank",
        "faults",
        {"fail_next_429": 6, "fail_next_5xx": 4, "retry_after_s": 0},
    )
    result = await sync(temporal_client, ctx, vbank_user.user_id, "vbank")
    assert result.status == "ready", result
    stats = (
        await httpx.AsyncClient(base_url=_emulator(ctx)).get(
            "/vbank/admin/stats", headers={"X-Emulator-Admin": "emulator-admin"}
        )
    ).json()
    assert stats["stats"].get("faults_429", 0) >= 6
    assert stats["stats"].get("faults_503", 0) + stats["stats"].get("faults_500", 0) >= 4


async def test_token_expiry_mid_sync_retokens_once(
    vbank_user: Actor, ctx: ServiceContext, temporal_client: Client
) -> None:
    headers = {"X-Emulator-Admin": "emulator-admin"}
    async with httpx.AsyncClient(base_url=_emulator(ctx)) as http:
        before = (await http.get("/vbank/admin/stats", headers=headers)).json()["stats"]
        await http.post("/vbank/admin/tokens/expire", headers=headers)
        result = await sync(temporal_client, ctx, vbank_user.user_id, "vbank")
        after = (await http.get("/vbank/admin/stats", headers=headers)).json()["stats"]
    assert result.status == "ready"
    assert after["token_requests"] - before["token_requests"] == 1


async def test_revoked_consent_moves_to_reconsent(
    vbank_user: Actor, api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client
) -> None:
    await emulator_admin(_emulator(ctx), "vbank", "consents/revoke", {"client_id": "team042-5"})
    result = await sync(temporal_client, ctx, vbank_user.user_id, "vbank")
    assert result.status == "reconsent_required"
    schedule = temporal_client.get_schedule_handle(f"refresh-{vbank_user.user_id}")
    assert (await schedule.describe()).schedule.state.paused is True
    status = (await api.get("/api/onboarding/status", headers=vbank_user.headers)).json()
    vbank = next(b for b in status["banks"] if b["bank_code"] == "vbank")
    assert vbank["status"] == "reconsent_required"
    assert "consent" in vbank["last_error"].lower()
    consents = (await api.get("/api/consents", headers=vbank_user.headers)).json()
    accounts_consent = next(c for c in consents if c["kind"] == "accounts")
    assert accounts_consent["status"] == "revoked"
    assert accounts_consent["status_reason"]
    refused = await api.post("/api/banks/vbank/sync", headers=vbank_user.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "consent_required"


async def test_raw_logs_hold_no_secrets(
    vbank_user: Actor, api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    # A token exchange of this test's own: the worker's, and its log line, may predate it
    # (and went with a user whose data an earlier test of this process deleted).
    with Session(ctx.engine) as session:
        session.exec(delete(BankToken).where(col(BankToken.bank_code) == "vbank"))
        session.commit()
    bank = BankAccess(ctx)
    try:
        with acting_for(vbank_user.user_id):
            await bank.client("vbank").get_bank_token()
    finally:
        await bank.close()
    with Session(ctx.engine) as session:
        logs = session.exec(select(RawApiLog).where(RawApiLog.bank_code == "vbank")).all()
        token_row = session.get(BankToken, "vbank")
    assert token_row is not None and logs
    token = ctx.secrets.decrypt(token_row.token_encrypted)
    assert token not in token_row.token_encrypted
    secret = ctx.settings.bank_client_secret.get_secret_value()
    dump = "\n".join(f"{r.endpoint} {r.body}" for r in logs)
    assert "/accounts" in dump and "auth/bank-token" in dump
    assert token not in dump and secret not in dump
    assert any(r.user_id == vbank_user.user_id for r in logs)


async def test_other_users_accounts_are_invisible(
    vbank_user: Actor, api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    stranger = await connect_user(api, ctx, slot=6)
    assert (await api.get("/api/accounts", headers=stranger.headers)).json() == []
    with Session(ctx.engine) as session:
        account = session.exec(
            select(BankAccount).where(BankAccount.user_id == vbank_user.user_id)
        ).first()
    assert account is not None
    response = await api.get(
        "/api/transactions", params={"account_id": str(account.id)}, headers=stranger.headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "account_not_found"
    mine = await api.get(
        "/api/transactions", params={"account_id": str(account.id)}, headers=vbank_user.headers
    )
    assert mine.status_code == 200 and mine.json()["total"] > 0


async def test_admin_reads_raw_logs_of_a_user(
    vbank_user: Actor, api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    admin = await actor(api, ctx.engine, Role.admin)
    response = await api.get(
        "/api/admin/raw-logs", params={"user_id": str(vbank_user.user_id)}, headers=admin.headers
    )
    assert response.status_code == 200
    rows = response.json()
    assert rows and all(r["user_id"] == str(vbank_user.user_id) for r in rows)
    assert {r["direction"] for r in rows} == {"request", "response"}
    forbidden = await api.get("/api/admin/raw-logs", headers=vbank_user.headers)
    assert forbidden.status_code == 403


async def test_a_sync_failing_at_the_accounts_call_closes_its_run(
    vbank_user: Actor, ctx: ServiceContext, temporal_client: Client
) -> None:
    async def faults_503() -> int:
        async with httpx.AsyncClient(base_url=_emulator(ctx)) as http:
            answer = await http.get(
                "/vbank/admin/stats", headers={"X-Emulator-Admin": "emulator-admin"}
            )
        count: int = answer.json()["stats"].get("faults_503", 0)
        return count

    before = await faults_503()
    await emulator_admin(_emulator(ctx), "vbank", "faults", {"fail_next_5xx": 5})
    result = await sync(temporal_client, ctx, vbank_user.user_id, "vbank")
    assert result.status == "error" and "503" in (result.error or "")
    runs = sync_runs(ctx, vbank_user.user_id)
    assert runs[-1].status == "error" and runs[-1].finished_at is not None
    assert all(run.status != "running" for run in runs)
    # One retry budget (the client's five attempts), not five times six.
    assert await faults_503() - before == 5
