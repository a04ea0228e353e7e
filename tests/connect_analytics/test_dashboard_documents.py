"""The stored dashboard document: rewritten with every change to what it shows, built on a
read when missing or made stale by the clock, and only ever its owner's."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from connect.bank_data import AccountRecord, BalanceRecord, save_all_balances, upsert_accounts
from connect.connection_updates import update_connection
from connect.consent_rows import record_consent
from connect.dashboard import dashboard_body
from connect.identities import purge_bank_data
from contracts import connect as c
from core.context import ServiceContext
from core.db import session_scope
from models.banking import AccountKind
from models.base import utcnow
from models.connect import ConnectionStatus, Consent, ConsentStatus
from models.dashboard import UserDashboard
from tests.connect_analytics.bankdata import steady_earner
from tests.connect_analytics.conftest import NewUser, snapshot
from tests.factories import Actor


async def _get(api: httpx.AsyncClient, user: Actor) -> httpx.Response:
    response = await api.get("/api/dashboard", headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response


def _stored(ctx: ServiceContext, user: Actor) -> UserDashboard | None:
    with Session(ctx.engine) as session:
        return session.get(UserDashboard, user.user_id)


def _fresh(ctx: ServiceContext, user: Actor) -> bytes:
    """What the dashboard is right now, built from the inputs (not the stored document)."""
    with Session(ctx.engine) as session:
        return dashboard_body(session, user.user_id)


def _banks(body: dict[str, Any]) -> dict[str, str]:
    return {b["bank_code"]: b["status"] for b in body["banks"]}


async def test_a_new_snapshot_rewrites_the_document(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    steady_earner(data)
    data.connection("vbank")
    data.save(ctx.engine)
    before = (await _get(api, user)).json()
    assert (before["status"], before["snapshot"]) == ("syncing", None)

    result = snapshot(ctx, user)
    stored = _stored(ctx, user)
    assert stored is not None and stored.body == _fresh(ctx, user)
    response = await _get(api, user)
    assert response.content == stored.body
    after = response.json()
    assert (after["status"], after["snapshot"]["id"]) == ("ready", result.snapshot_id)
    assert after["metrics"]["safe_to_spend"]["value"] == 9_510_000


async def test_a_disconnected_bank_shows_at_once(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    steady_earner(data)
    data.connection("vbank")
    data.connection("abank")
    data.save(ctx.engine)
    snapshot(ctx, user)
    assert _banks((await _get(api, user)).json())["vbank"] == "ready"

    # What the revoke workflow does: the consent revoked, then the connection reset.
    with Session(ctx.engine) as session:
        query = select(Consent.id).where(Consent.user_id == user.user_id)
        consent_id = session.exec(query.where(Consent.bank_code == "vbank")).one()
    record_consent(ctx.engine, consent_id, ConsentStatus.revoked, "Revoked by the user")
    update = c.ConnectionUpdate(
        str(user.user_id), "vbank", ConnectionStatus.not_connected, "revoked", 0
    )
    update_connection(ctx.engine, update)

    body = (await _get(api, user)).json()
    assert _banks(body) == {"vbank": "not_connected", "abank": "ready", "sbank": "not_connected"}
    vbank = next(b for b in body["banks"] if b["bank_code"] == "vbank")
    assert vbank["consent_expires_at"] is None and vbank["step"] == "revoked"
    assert body["status"] == "ready"  # the figures stay until the next snapshot

    failed = c.ConnectionUpdate(
        str(user.user_id), "abank", ConnectionStatus.error, "done", 100, "ABank is down"
    )
    update_connection(ctx.engine, failed)
    body = (await _get(api, user)).json()
    assert {(a["bank_code"], a["reason"], a["message"]) for a in body["attention"]} == {
        ("abank", "sync_error", "ABank is down")
    }


async def test_releasing_the_identity_empties_the_dashboard_at_once(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    steady_earner(data)
    data.connection("vbank")
    data.save(ctx.engine)
    snapshot(ctx, user)
    assert (await _get(api, user)).json()["accounts"]

    with session_scope(ctx.engine) as session:
        purge_bank_data(session, user.user_id)
    body = (await _get(api, user)).json()
    assert (body["status"], body["snapshot"], body["metrics"]) == ("no_data", None, None)
    assert body["accounts"] == [] and body["balances"] == [] and body["debts"] == []
    assert set(_banks(body).values()) == {"not_connected"}


async def test_a_user_without_a_document_gets_the_right_one_and_keeps_it(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    steady_earner(data)
    data.connection("vbank", consent_days_left=3)
    data.save(ctx.engine)
    snapshot(ctx, user)
    # As for data from before documents existed.
    with session_scope(ctx.engine) as session:
        session.execute(delete(UserDashboard).where(col(UserDashboard.user_id) == user.user_id))

    response = await _get(api, user)
    assert response.content == _fresh(ctx, user)
    body = response.json()
    assert body["status"] == "ready" and body["metrics"]["safe_to_spend"]["value"] == 9_510_000
    assert {a["reason"] for a in body["attention"]} == {"consent_expiring_soon"}
    stored = _stored(ctx, user)
    assert stored is not None and stored.body == response.content
    # Already flagged: what the clock changes next is the consent's end, three days away.
    assert stored.stale_at is not None
    assert abs(stored.stale_at - (utcnow() + timedelta(days=3))) < timedelta(minutes=5)


async def test_concurrent_first_reads_agree(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    data.connection("vbank", ConnectionStatus.sync_in_progress)
    data.save(ctx.engine)
    responses = await asyncio.gather(*(_get(api, user) for _ in range(6)))
    assert {r.content for r in responses} == {_fresh(ctx, user)}


async def test_concurrent_writers_of_one_user_leave_the_document_current(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    for bank in ("vbank", "abank", "sbank"):
        data.connection(bank, ConnectionStatus.sync_in_progress)
    data.save(ctx.engine)
    await _get(api, user)

    def progress(bank: str) -> None:
        for pct in range(10, 101, 10):
            status = ConnectionStatus.ready if pct == 100 else ConnectionStatus.sync_in_progress
            step = c.ConnectionUpdate(str(user.user_id), bank, status, f"step {pct}", pct)
            update_connection(ctx.engine, step)

    # Each bank's sync reports its progress at the same time as the others'.
    await asyncio.gather(*(asyncio.to_thread(progress, b) for b in ("vbank", "abank", "sbank")))
    response = await _get(api, user)
    assert response.content == _fresh(ctx, user)
    assert set(_banks(response.json()).values()) == {"ready"}


async def test_a_consent_entering_its_last_week_is_flagged_without_any_write(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    data.connection("vbank", consent_days_left=10)
    data.save(ctx.engine)
    assert (await _get(api, user)).json()["attention"] == []
    stored = _stored(ctx, user)
    assert stored is not None and stored.stale_at is not None
    # The document goes stale when the consent has a week left: three days from now.
    assert abs(stored.stale_at - (utcnow() + timedelta(days=3))) < timedelta(minutes=5)

    # Three days pass: the consent has a week left, and the stored document's time is up.
    with session_scope(ctx.engine) as session:
        days_left = utcnow() + timedelta(days=7) - timedelta(minutes=1)
        session.execute(
            update(Consent).where(col(Consent.user_id) == user.user_id).values(expires_at=days_left)
        )
        passed = utcnow() - timedelta(seconds=1)
        session.execute(
            update(UserDashboard)
            .where(col(UserDashboard.user_id) == user.user_id)
            .values(stale_at=passed)
        )
    body = (await _get(api, user)).json()
    assert [(a["bank_code"], a["reason"]) for a in body["attention"]] == [
        ("vbank", "consent_expiring_soon")
    ]
    rewritten = _stored(ctx, user)
    # Flagged now; the document goes stale again when the consent ends.
    assert rewritten is not None and rewritten.stale_at is not None
    assert abs(rewritten.stale_at - days_left) < timedelta(seconds=1)


async def test_each_user_reads_only_their_own_document(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    owner, data = await new_user()
    steady_earner(data)
    data.connection("vbank")
    data.save(ctx.engine)
    snapshot(ctx, owner)
    other, other_data = await new_user()
    other_data.account("acc-other", balance_rub=7)
    other_data.save(ctx.engine)
    stranger, _ = await new_user()

    owned = await _get(api, owner)
    assert owned.content == _fresh(ctx, owner)
    others = (await _get(api, other)).json()
    assert [a["external_id"] for a in others["accounts"]] == ["acc-other"]
    assert others["snapshot"] is None and "acc-1" not in str(others)
    nothing = (await _get(api, stranger)).json()
    assert (nothing["status"], nothing["accounts"]) == ("no_data", [])
    for user in (owner, other, stranger):
        stored = _stored(ctx, user)
        assert stored is not None and stored.body == _fresh(ctx, user)


async def test_a_sync_marks_the_document_stale_and_the_next_read_shows_it(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    """Accounts, balances and progress within a status mark the document stale (no rebuild
    per write); the next read rebuilds it, so it still shows every change."""
    user, data = await new_user()
    data.connection("vbank", ConnectionStatus.sync_in_progress)
    data.save(ctx.engine)
    await _get(api, user)
    records = [
        AccountRecord(
            "acc-new", "CurrentAccount", AccountKind.liquid, "RUB", None, "*0001", "Enabled"
        )
    ]
    refs = upsert_accounts(ctx.engine, str(user.user_id), "vbank", records)
    stored = _stored(ctx, user)
    assert stored is not None and stored.stale_at is not None and stored.stale_at < utcnow()
    balance = BalanceRecord("InterimAvailable", 123_456, "RUB", utcnow())
    save_all_balances(ctx.engine, [(refs[0].account_row_id, [balance])])
    step = c.ConnectionUpdate(
        str(user.user_id), "vbank", ConnectionStatus.sync_in_progress, "accounts", 50
    )
    update_connection(ctx.engine, step)
    response = await _get(api, user)
    assert response.content == _fresh(ctx, user)
    assert b"123456" in response.content or b"1234.56" in response.content
    stored = _stored(ctx, user)
    assert stored is not None and stored.body == response.content
    assert stored.stale_at is None or stored.stale_at > utcnow()
