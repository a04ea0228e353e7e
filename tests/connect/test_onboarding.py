"""Onboarding through the API: token → consents → poll or sign → sync, on the emulator."""

from __future__ import annotations

import httpx
from sqlmodel import Session, select
from temporalio.client import Client

from contracts.connect import ConsentState
from core.context import ServiceContext
from models.connect import Consent, ConsentEvent, ConsentKind
from tests.connect.helpers import (
    connect_user,
    emulator_admin,
    onboard,
    sync_runs,
    transactions_of,
    wait_for_status,
)
from workflows.onboarding import OnboardingWorkflow


async def test_onboarding_all_three_banks(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await connect_user(api, ctx, slot=2)
    started = await api.post(
        "/api/onboarding/start",
        json={"banks": ["vbank", "abank", "sbank"], "allow_sandbox_sign": True},
        headers=user.headers,
    )
    assert started.status_code == 202, started.text
    banks = await wait_for_status(api, user.headers, {"ready", "error", "reconsent_required"})
    assert {b["bank_code"]: b["status"] for b in banks} == {
        "vbank": "ready",
        "abank": "ready",
        "sbank": "ready",
    }, banks
    assert all(b["progress_pct"] == 100 and b["last_sync_at"] for b in banks)
    handle = temporal_client.get_workflow_handle(started.json()["workflow_id"])
    await handle.result()
    progress = await handle.query(OnboardingWorkflow.progress)
    assert {p.bank_code: p.status for p in progress.banks} == {
        "vbank": "ready",
        "abank": "ready",
        "sbank": "ready",
    }

    accounts = (await api.get("/api/accounts", headers=user.headers)).json()
    assert {a["bank_code"] for a in accounts} == {"vbank", "abank", "sbank"}
    assert all(
        a["number_masked"] is None or a["number_masked"].startswith("****") for a in accounts
    )
    assert any(a["available"] is not None for a in accounts)
    assert len(transactions_of(ctx, user.user_id)) > 100

    schedule = await temporal_client.get_schedule_handle(f"refresh-{user.user_id}").describe()
    assert schedule.schedule.state.paused is False

    consents = (await api.get("/api/consents", headers=user.headers)).json()
    by_bank = {(c["bank_code"], c["kind"]): c for c in consents if c["status"] == "authorized"}
    assert by_bank[("vbank", "accounts")]["auto_approved"] is True
    assert by_bank[("sbank", "accounts")]["auto_approved"] is False
    with Session(ctx.engine) as session:
        sbank = session.exec(
            select(Consent).where(
                Consent.user_id == user.user_id,
                Consent.bank_code == "sbank",
                Consent.kind == ConsentKind.accounts,
            )
        ).one()
        history = session.exec(
            select(ConsentEvent.status).where(ConsentEvent.consent_row_id == sbank.id)
        ).all()
    assert [str(s) for s in history] == ["pending", "authorized"]


async def test_pending_consent_never_approved_ends_in_error(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await connect_user(api, ctx, slot=3)
    progress = await onboard(
        temporal_client,
        ctx,
        user.user_id,
        ["sbank"],
        allow_sandbox_sign=False,
        consent_deadline_seconds=2,
        poll_initial_seconds=0.5,
    )
    assert progress.banks[0].status == "error"
    assert "deadline" in (progress.banks[0].last_error or "")
    status = (await api.get("/api/onboarding/status", headers=user.headers)).json()
    sbank = next(b for b in status["banks"] if b["bank_code"] == "sbank")
    assert sbank["status"] == "error"
    assert "deadline" in sbank["last_error"]
    consents = (await api.get("/api/consents", headers=user.headers)).json()
    assert [c["status"] for c in consents] == ["expired"]


async def test_user_revokes_a_consent(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await connect_user(api, ctx, slot=7)
    await onboard(temporal_client, ctx, user.user_id, ["abank"])
    consents = (await api.get("/api/consents", headers=user.headers)).json()
    accounts = next(c for c in consents if c["kind"] == "accounts")
    stranger = await connect_user(api, ctx, slot=8)
    foreign = await api.delete(f"/api/consents/{accounts['id']}", headers=stranger.headers)
    assert foreign.status_code == 404

    response = await api.delete(f"/api/consents/{accounts['id']}", headers=user.headers)
    assert response.status_code == 202
    handle = temporal_client.get_workflow_handle(
        response.json()["workflow_id"], result_type=ConsentState
    )
    assert (await handle.result()).status == "revoked"
    again = await api.delete(f"/api/consents/{accounts['id']}", headers=user.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "consent_not_active"
    status = (await api.get("/api/onboarding/status", headers=user.headers)).json()
    abank = next(b for b in status["banks"] if b["bank_code"] == "abank")
    assert abank["status"] == "not_connected"
    # The agreement consent given with it is withdrawn too, here and at the bank.
    after = {
        c["kind"]: c["status"]
        for c in (await api.get("/api/consents", headers=user.headers)).json()
    }
    assert after == {"accounts": "revoked", "product_agreements": "revoked"}
    agreements = next(c for c in consents if c["kind"] == "product_agreements")
    async with httpx.AsyncClient(base_url=ctx.settings.bank_base_urls["abank"]) as bank:
        login = await bank.post(
            "/auth/login", json={"username": "team042-7", "password": "emulator-team-secret"}
        )
        token = {"Authorization": f"Bearer {login.json()['access_token']}"}
        at_bank = await bank.get(
            f"/product-agreement-consents/{agreements['bank_consent_id']}", headers=token
        )
    assert at_bank.json()["status"] == "revoked"


async def test_a_bank_that_fails_ends_in_error_while_the_others_connect(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    """HTML 500s on every call after the token: the client's own retries, then a readable
    error; nothing retried without bound, no sync run left open, the other bank ready."""
    user = await connect_user(api, ctx, slot=4)
    emulator = ctx.settings.bank_base_urls["vbank"].rsplit("/", 1)[0]
    await emulator_admin(emulator, "abank", "faults", {"fail_next_5xx": 5, "status_5xx": 500})
    try:
        progress = await onboard(temporal_client, ctx, user.user_id, ["abank", "vbank"])
    finally:
        await emulator_admin(emulator, "abank", "faults", {"fail_next_5xx": 0, "status_5xx": 503})
    by_bank = {p.bank_code: p for p in progress.banks}
    assert by_bank["vbank"].status == "ready"
    assert by_bank["abank"].status == "error"
    assert "500" in (by_bank["abank"].last_error or "")
    assert all(run.status != "running" for run in sync_runs(ctx, user.user_id))
