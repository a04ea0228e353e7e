"""Consents approved in the bank's own app (SBank): the team never learns their ids, so a
revoke is proven by the bank no longer answering, a reconnect never counts an earlier
approval, and an agreement consent approved at the bank is seen as account consents are."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.connect import ConsentState, SyncResult
from core.context import ServiceContext
from models.banking import ProductAgreement
from models.connect import Consent, ConsentKind, RawApiLog
from tests.connect.helpers import (
    bank_answers,
    connect_user,
    emulator_admin,
    emulator_of,
    onboard,
    onboard_at_bank,
    pending_request,
    wait_for_status,
    wait_until,
)
from tests.factories import Actor


def _rows(ctx: ServiceContext, user_id: uuid.UUID, kind: ConsentKind) -> list[Consent]:
    with Session(ctx.engine) as session:
        query = select(Consent).where(
            Consent.user_id == user_id, Consent.bank_code == "sbank", Consent.kind == kind
        )
        return list(session.exec(query.order_by(col(Consent.created_at))))


async def _approve_at_bank(ctx: ServiceContext, request_id: str) -> None:
    """The user approves in SBank's own app: nothing tells us the new consent id."""
    await emulator_admin(emulator_of(ctx), "sbank", "consents/decide", {"request_id": request_id})


async def _connected(
    api: httpx.AsyncClient, ctx: ServiceContext, client: Client, slot: int
) -> Actor:
    user = await connect_user(api, ctx, slot=slot)
    await onboard_at_bank(api, ctx, client, user)
    return user


def _accounts_consent(consents: list[dict[str, Any]]) -> dict[str, Any]:
    return next(c for c in consents if c["kind"] == "accounts")


async def _consents(api: httpx.AsyncClient, user: Actor) -> list[dict[str, Any]]:
    return list((await api.get("/api/consents", headers=user.headers)).json())


async def _sbank(api: httpx.AsyncClient, user: Actor) -> dict[str, Any]:
    banks = (await api.get("/api/onboarding/status", headers=user.headers)).json()["banks"]
    return dict(next(b for b in banks if b["bank_code"] == "sbank"))


@pytest.fixture
async def no_consent_list(ctx: ServiceContext) -> AsyncIterator[None]:
    """An SBank build that lists no consents to its user: the team cannot learn the id."""
    await emulator_admin(emulator_of(ctx), "sbank", "behaviour", {"user_consent_list": False})
    yield
    await emulator_admin(emulator_of(ctx), "sbank", "behaviour", {"user_consent_list": True})


async def test_revoking_a_consent_approved_at_the_bank_revokes_it_there(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await _connected(api, ctx, temporal_client, slot=5)
    assert await bank_answers(ctx, "sbank", "team042-5") == 200
    accounts = _accounts_consent(await _consents(api, user))
    assert accounts["bank_consent_id"] is None  # only the request id is known to us

    response = await api.delete(f"/api/consents/{accounts['id']}", headers=user.headers)
    assert response.status_code == 202
    handle = temporal_client.get_workflow_handle(
        response.json()["workflow_id"], result_type=ConsentState
    )
    assert (await handle.result()).status == "revoked"
    # The id came from the user's own consent list at the bank: revoked there for real.
    assert await bank_answers(ctx, "sbank", "team042-5") == 403
    assert (await _sbank(api, user))["step"] == "revoked"


async def test_a_consent_the_bank_still_holds_stays_revoke_pending_until_it_lets_go(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    temporal_client: Client,
    worker: None,
    no_consent_list: None,
) -> None:
    user = await _connected(api, ctx, temporal_client, slot=1)
    accounts = _accounts_consent(await _consents(api, user))
    response = await api.delete(f"/api/consents/{accounts['id']}", headers=user.headers)
    assert response.status_code == 202
    revoke = temporal_client.get_workflow_handle(
        response.json()["workflow_id"], result_type=ConsentState
    )

    async def withdrawn() -> dict[str, Any] | None:
        row = _accounts_consent(await _consents(api, user))
        return row if row["status"] != "authorized" else None

    # The bank answered 404 to the revoke and still gives us the data: not revoked.
    row = await wait_until(withdrawn, what="consent withdrawn")
    assert row["status"] == "revoke_pending", row
    assert "SBank app" in row["status_reason"]
    assert await bank_answers(ctx, "sbank", "team042-1") == 200
    sbank = await _sbank(api, user)
    assert (sbank["status"], sbank["step"]) == ("not_connected", "revoke_pending")
    assert "revoke JivaPay's consent in your SBank app" in sbank["last_error"]
    dashboard = (await api.get("/api/dashboard", headers=user.headers)).json()
    assert ("sbank", "revoke_pending") in {
        (a["bank_code"], a["reason"]) for a in dashboard["attention"]
    }
    api.cookies.set("jivapay_session", user.headers["Authorization"].removeprefix("Bearer "))
    page = await api.get("/app/banks")
    assert "revoke not confirmed by the bank" in page.text and "I revoked it" in page.text

    # Reconnecting now would let the user approve a second consent: no request is made.
    requested = len(_rows(ctx, user.user_id, ConsentKind.accounts))
    again = await api.post("/api/banks/sbank/connect", headers=user.headers)
    assert again.status_code == 202
    banks = await wait_for_status(api, user.headers, {"error", "ready"})
    sbank = next(b for b in banks if b["bank_code"] == "sbank")
    assert sbank["status"] == "error" and "earlier consent" in sbank["last_error"], sbank
    assert len(_rows(ctx, user.user_id, ConsentKind.accounts)) == requested

    # The user revokes it in SBank's app and says so: the probe sees the bank let go.
    await emulator_admin(emulator_of(ctx), "sbank", "consents/revoke", {"client_id": "team042-1"})
    checked = await api.post("/api/banks/sbank/consent/check", headers=user.headers)
    assert checked.status_code == 202 and checked.json()["workflow_id"] == revoke.id
    assert (await revoke.result()).status == "revoked"
    assert _accounts_consent(await _consents(api, user))["status"] == "revoked"

    # A new consent now: approved once, and the bank holds exactly one.
    await api.post("/api/banks/sbank/connect", headers=user.headers)
    await _approve_at_bank(ctx, await wait_until(lambda: pending_request(ctx, user.user_id)))
    await api.post("/api/banks/sbank/consent/check", headers=user.headers)
    await wait_until(lambda: _sbank_ready(api, user), what="sbank ready")
    assert await bank_answers(ctx, "sbank", "team042-1") == 200


async def _sbank_ready(api: httpx.AsyncClient, user: Actor) -> bool:
    return (await _sbank(api, user))["status"] == "ready"


def _probed_after_request(ctx: ServiceContext, user_id: uuid.UUID, since: int) -> bool:
    """Whether, after our newest consent request, a probe found no consent (403)."""
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(RawApiLog).where(
                RawApiLog.user_id == user_id,
                RawApiLog.direction == "response",
                col(RawApiLog.id) > since,
            )
        ).all()
    asked = [r.id or 0 for r in rows if r.endpoint == "/account-consents/request"]
    return bool(asked) and any(
        r.method == "GET"
        and r.endpoint.startswith("/accounts?")
        and r.status_code == 403
        and (r.id or 0) > max(asked)
        for r in rows
    )


async def test_a_reconnect_never_counts_an_approval_given_before_its_request(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await connect_user(api, ctx, slot=2)
    first = await onboard(temporal_client, ctx, user.user_id, ["sbank"], consent_deadline_seconds=1)
    assert first.banks[0].status == "error"  # not approved in time
    old_request = _rows(ctx, user.user_id, ConsentKind.accounts)[0].request_id
    # Later the user approves that old request in SBank's app; we are not told.
    await _approve_at_bank(ctx, old_request)
    with Session(ctx.engine) as session:
        since = max((i or 0 for i in session.exec(select(RawApiLog.id)).all()), default=0)

    assert (await api.post("/api/banks/sbank/connect", headers=user.headers)).status_code == 202

    async def decided() -> bool:
        now = await _sbank(api, user)
        failed = now["status"] == "error" and "deadline" not in (now["last_error"] or "")
        return now["status"] == "ready" or failed or _probed_after_request(ctx, user.user_id, since)

    await wait_until(decided, what="the new request polled")
    sbank = await _sbank(api, user)
    assert (sbank["status"], sbank["step"]) == ("consent_pending", "awaiting_signature_accounts")
    new_request = pending_request(ctx, user.user_id)
    assert new_request and new_request != old_request

    await _approve_at_bank(ctx, new_request)
    await api.post("/api/banks/sbank/consent/check", headers=user.headers)
    await wait_until(lambda: _sbank_ready(api, user), what="sbank ready")
    assert await bank_answers(ctx, "sbank", "team042-2") == 200  # one consent, not two (500)


async def test_an_agreement_consent_approved_at_the_bank_is_seen_on_i_approved_it(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await _connected(api, ctx, temporal_client, slot=3)
    sbank = await _sbank(api, user)
    assert [w["code"] for w in sbank["warnings"]] == ["agreements_awaiting_approval"]
    agreement = next(c for c in await _consents(api, user) if c["kind"] == "product_agreements")
    assert agreement["status"] == "pending"

    # A bank employee approves it; the team is not told, and no sign route exists.
    await _approve_at_bank(ctx, agreement["bank_request_id"])
    pressed = await api.post("/api/banks/sbank/consent/check", headers=user.headers)
    assert pressed.status_code == 202, pressed.text
    handle = temporal_client.get_workflow_handle(
        pressed.json()["workflow_id"], result_type=SyncResult
    )
    result = await handle.result()
    assert result.status == "ready" and result.warnings == [] and result.agreements > 0
    after = next(c for c in await _consents(api, user) if c["kind"] == "product_agreements")
    assert after["status"] == "authorized"
    assert (await _sbank(api, user))["warnings"] == []
    with Session(ctx.engine) as session:
        stored = session.exec(
            select(ProductAgreement).where(ProductAgreement.user_id == user.user_id)
        ).all()
    assert len(stored) == result.agreements
