"""Connect against a bank as strict as the real bank code: approval seen by probe, the
"I approved" button, optional agreements, and one sandbox identity per user."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import Session, select
from temporalio.client import Client

from contracts.connect import ConnectActivity, OnboardingInput, onboarding_workflow_id
from core.context import ServiceContext
from models.connect import Consent, ConsentKind
from models.users import Role
from tests.connect.helpers import (
    bank_answers,
    connect_user,
    emulator_admin,
    onboard,
    onboard_at_bank,
    wait_for_status,
    wait_until,
)
from tests.factories import PASSWORD, actor, create_user, login
from workflows.onboarding import OnboardingWorkflow


def _emulator(ctx: ServiceContext) -> str:
    return ctx.settings.bank_base_urls["vbank"].rsplit("/", 1)[0]


async def _pending_request_id(ctx: ServiceContext, user_id: uuid.UUID, bank: str) -> str:
    """The request id of the user's pending account consent, once it exists."""
    for _ in range(200):
        with Session(ctx.engine) as session:
            row = session.exec(
                select(Consent).where(
                    Consent.user_id == user_id,
                    Consent.bank_code == bank,
                    Consent.kind == ConsentKind.accounts,
                )
            ).first()
        if row is not None:
            return row.request_id
        await asyncio.sleep(0.1)
    raise TimeoutError("no consent requested")


async def _start(client: Client, ctx: ServiceContext, user_id: uuid.UUID, poll_s: float) -> None:
    await client.start_workflow(
        OnboardingWorkflow.run,
        OnboardingInput(
            str(user_id), ["sbank"], poll_initial_seconds=poll_s, poll_max_seconds=poll_s
        ),
        id=onboarding_workflow_id(str(user_id)),
        task_queue=ctx.settings.temporal_task_queue,
    )


async def _settled_after_polls(
    client: Client, user_id: uuid.UUID, polls: int, after_signal: bool = False
) -> bool:
    """Whether the onboarding has finished `polls` polls of the consent (with `after_signal`:
    polls begun after the last signal it received) and then settled (no activity running):
    what it decided after its last poll is in its history."""
    handle = client.get_workflow_handle(onboarding_workflow_id(str(user_id)))
    if (await handle.describe()).raw_description.pending_activities:
        return False
    scheduled: dict[int, str] = {}
    done = 0
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_signaled_event_attributes") and after_signal:
            scheduled, done = {}, 0  # count only what began after the signal
        elif event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = (
                event.activity_task_scheduled_event_attributes.activity_type.name
            )
        elif event.HasField("activity_task_completed_event_attributes"):
            of = event.activity_task_completed_event_attributes.scheduled_event_id
            done += scheduled.get(of) == ConnectActivity.poll_consent
    return done >= polls


async def test_i_approved_it_wakes_the_workflow_at_once(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await connect_user(api, ctx, slot=6)
    # The next scheduled poll is ten minutes away: only the button can make this quick.
    await _start(temporal_client, ctx, user.user_id, poll_s=600)
    request_id = await _pending_request_id(ctx, user.user_id, "sbank")
    early = await api.post("/api/banks/sbank/consent/check", headers=user.headers)
    assert early.status_code == 202, early.text  # nothing approved yet: stays pending
    # A poll begun after the button (the first one, or one more if the first was running)
    # has answered, and the workflow has settled: the next tick is ten minutes away.
    await wait_until(lambda: _settled_after_polls(temporal_client, user.user_id, 1, True))
    status = (await api.get("/api/onboarding/status", headers=user.headers)).json()["banks"]
    assert {b["bank_code"]: b["status"] for b in status}["sbank"] == "consent_pending"

    await emulator_admin(_emulator(ctx), "sbank", "consents/decide", {"request_id": request_id})
    pressed = await api.post("/api/banks/sbank/consent/check", headers=user.headers)
    assert pressed.status_code == 202, pressed.text
    assert pressed.json()["workflow_id"] == onboarding_workflow_id(str(user.user_id))
    banks = await wait_for_status(api, user.headers, {"ready", "error"}, limit_s=30)
    sbank = next(b for b in banks if b["bank_code"] == "sbank")
    assert sbank["status"] == "ready", sbank
    accounts = (await api.get("/api/accounts", headers=user.headers)).json()
    assert accounts and {a["bank_code"] for a in accounts} == {"sbank"}
    # Agreements: no sign route at the bank; the request waits for the bank's approval.
    assert [w["code"] for w in sbank["warnings"]] == ["agreements_awaiting_approval"]


async def test_approval_at_the_bank_is_seen_at_the_next_poll(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await connect_user(api, ctx, slot=7)
    await _start(temporal_client, ctx, user.user_id, poll_s=1)
    request_id = await _pending_request_id(ctx, user.user_id, "sbank")
    # a few polls answer AwaitingAuthorization, probes 403
    await wait_until(lambda: _settled_after_polls(temporal_client, user.user_id, 3))
    await emulator_admin(_emulator(ctx), "sbank", "consents/decide", {"request_id": request_id})
    banks = await wait_for_status(api, user.headers, {"ready", "error"}, limit_s=30)
    assert {b["bank_code"]: b["status"] for b in banks}["sbank"] == "ready", banks


async def test_the_button_without_a_pending_consent_is_a_clear_409(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    user = await connect_user(api, ctx, slot=8)
    response = await api.post("/api/banks/abank/consent/check", headers=user.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_consent_awaiting"
    unknown = await api.post("/api/banks/nobank/consent/check", headers=user.headers)
    assert unknown.status_code == 404


async def test_the_button_after_the_workflow_ended_is_a_409_not_a_503(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client
) -> None:
    """The fuzzer once pressed it while the workflow was ending: told it was running, the
    signal then found it gone and the answer was 503 temporal_unavailable."""
    user = await actor(api, ctx.engine, Role.connect_user)
    ended = await temporal_client.start_workflow(
        "NotOurs", id=onboarding_workflow_id(str(user.user_id)), task_queue="nobody-polls-this"
    )
    await ended.terminate("ended before the button")
    response = await api.post("/api/banks/abank/consent/check", headers=user.headers)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "no_consent_awaiting")


@pytest.fixture
async def crashing_agreements(ctx: ServiceContext) -> AsyncIterator[None]:
    await emulator_admin(_emulator(ctx), "abank", "behaviour", {"agreements_crash": True})
    yield
    await emulator_admin(_emulator(ctx), "abank", "behaviour", {"agreements_crash": False})


async def test_a_crashing_agreements_route_leaves_the_bank_ready_with_a_warning(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    temporal_client: Client,
    worker: None,
    crashing_agreements: None,
) -> None:
    user = await connect_user(api, ctx, slot=9)
    progress = await onboard(temporal_client, ctx, user.user_id, ["abank"])
    abank = progress.banks[0]
    assert abank.status == "ready", abank
    assert [w.code for w in abank.warnings] == ["agreements_unavailable"]
    assert "500" in abank.warnings[0].message
    banks = (await api.get("/api/banks", headers=user.headers)).json()
    connection = next(b["connection"] for b in banks if b["bank_code"] == "abank")
    assert connection["status"] == "ready"
    assert connection["warnings"][0]["code"] == "agreements_unavailable"
    dashboard = (await api.get("/api/dashboard", headers=user.headers)).json()
    assert dashboard["status"] == "ready" and dashboard["snapshot"] is not None
    assert dashboard["accounts"]
    # One definition of "the last 30 days": the summary is the sum of its days.
    for period, days in (("30d", 30), ("90d", 90)):
        summary = await api.get(f"/api/transactions/summary?period={period}", headers=user.headers)
        sections = summary.json()["currencies"]
        for section in sections:
            by_day = section["spending_by_day"]
            assert len(by_day) == days
            assert sum(day["amount_minor"] for day in by_day) == section["spending"]["amount_minor"]


async def _release_all(api: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    pool = (await api.get("/api/admin/sandbox-identities", headers=admin_headers)).json()
    assert len(pool) == 10
    for identity in pool:
        path = f"/api/admin/sandbox-identities/{identity['external_client_id']}/release"
        assert (await api.post(path, headers=admin_headers)).status_code == 200


@pytest.fixture
async def admin_headers(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> AsyncIterator[dict[str, str]]:
    """An administrator; every identity is free before the test and again after it."""
    admin = create_user(ctx.engine, Role.admin)
    headers = await login(api, admin.email)
    await _release_all(api, headers)
    yield headers
    await _release_all(api, headers)


async def test_each_user_holds_an_identity_of_their_own(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    temporal_client: Client,
    worker: None,
    admin_headers: dict[str, str],
) -> None:

    emails = [f"pool-{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(12)]
    registered = await asyncio.gather(
        *(api.post("/api/auth/register", json={"email": e, "password": PASSWORD}) for e in emails)
    )
    assert [r.status_code for r in registered] == [201] * 12  # registration always works
    headers = [await login(api, e) for e in emails]
    connected = await asyncio.gather(
        *(api.post("/api/banks/vbank/connect", headers=h) for h in headers)
    )
    codes = sorted(r.status_code for r in connected)
    assert codes == [202] * 10 + [409] * 2, [r.text for r in connected]
    refused = [r.json() for r in connected if r.status_code == 409]
    assert {body["error"]["code"] for body in refused} == {"no_sandbox_identity"}

    pool = (await api.get("/api/admin/sandbox-identities", headers=admin_headers)).json()
    holders = [identity["user_id"] for identity in pool]
    assert None not in holders and len(set(holders)) == 10

    seen: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=_emulator(ctx)) as bank:
        for h, response in zip(headers, connected, strict=True):
            if response.status_code != 202:
                accounts = (await api.get("/api/accounts", headers=h)).json()
                assert accounts == []
                continue
            await wait_for_status(api, h, {"ready", "error"}, limit_s=90)
            me = (await api.get("/api/auth/me", headers=h)).json()
            identity = next(i for i in pool if i["user_id"] == me["id"])["external_client_id"]
            at_bank = (
                await bank.get(
                    f"/vbank/admin/clients/{identity}",
                    headers={"X-Emulator-Admin": "emulator-admin"},
                )
            ).json()
            ours = {a["external_id"] for a in (await api.get("/api/accounts", headers=h)).json()}
            assert ours == {a["account_id"] for a in at_bank["accounts"]}
            for account in ours:
                assert seen.setdefault(account, me["id"]) == me["id"]  # nobody else's


async def test_releasing_an_identity_revokes_at_the_bank_and_deletes_our_copy(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    temporal_client: Client,
    worker: None,
    admin_headers: dict[str, str],
) -> None:
    user = await connect_user(api, ctx, slot=10)
    progress = await onboard(temporal_client, ctx, user.user_id, ["vbank"])
    assert progress.banks[0].status == "ready"
    assert (await api.get("/api/accounts", headers=user.headers)).json()

    released = await api.post(
        "/api/admin/sandbox-identities/team042-10/release", headers=admin_headers
    )
    assert released.status_code == 200 and released.json()["user_id"] is None
    assert (await api.get("/api/accounts", headers=user.headers)).json() == []
    assert (await api.get("/api/consents", headers=user.headers)).json() == []
    # The next holder is not handed the previous holder's approval: the bank says so.
    assert await bank_answers(ctx, "vbank", "team042-10") == 403


async def test_an_identity_stays_held_while_a_bank_still_answers_for_it(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    temporal_client: Client,
    worker: None,
    admin_headers: dict[str, str],
) -> None:
    user = await connect_user(api, ctx, slot=5)
    # Approved in SBank's app: we hold only the request id, the bank revokes by consent id,
    # and this build shows the user no consent list to learn it from.
    await onboard_at_bank(api, ctx, temporal_client, user)
    await emulator_admin(_emulator(ctx), "sbank", "behaviour", {"user_consent_list": False})
    try:
        path = "/api/admin/sandbox-identities/team042-5/release"
        refused = await api.post(path, headers=admin_headers)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "consent_revoke_pending"
        assert "SBank" in refused.json()["error"]["message"]
        pool = (await api.get("/api/admin/sandbox-identities", headers=admin_headers)).json()
        holder = next(i for i in pool if i["external_client_id"] == "team042-5")["user_id"]
        assert holder == str(user.user_id)  # not handed to anybody with a live approval
        assert await bank_answers(ctx, "sbank", "team042-5") == 200
        consents = (await api.get("/api/consents", headers=user.headers)).json()
        accounts = next(c for c in consents if c["kind"] == "accounts")
        assert accounts["status"] == "revoke_pending"

        # Revoked in the bank's app: the next release goes through.
        await emulator_admin(_emulator(ctx), "sbank", "consents/revoke", {"client_id": "team042-5"})
        released = await api.post(path, headers=admin_headers)
        assert released.status_code == 200 and released.json()["user_id"] is None
        assert await bank_answers(ctx, "sbank", "team042-5") == 403
    finally:
        await emulator_admin(_emulator(ctx), "sbank", "behaviour", {"user_consent_list": True})
