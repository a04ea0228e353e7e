"""Disconnecting a bank whose consent still awaits the person's approval: the request is
withdrawn, and an approval given at the bank afterwards does not bring the bank back."""

from __future__ import annotations

import httpx
from sqlmodel import Session, col, select
from temporalio.client import Client

from connect import erasure
from core.context import ServiceContext
from models.banking import BankAccount
from models.connect import Consent, ConsentKind, ConsentStatus
from tests.connect.helpers import (
    connect_user,
    emulator_admin,
    emulator_of,
    pending_request,
    start_onboarding,
    wait_until,
)


async def test_a_pending_bank_disconnected_stays_disconnected_after_a_late_approval(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await connect_user(api, ctx, slot=3)
    handle = await start_onboarding(
        temporal_client, ctx, user.user_id, ["sbank"], poll_initial_seconds=0.5
    )
    request_id = await wait_until(lambda: pending_request(ctx, user.user_id), what="a request")

    await erasure.disconnect_bank(ctx, temporal_client, user_id=user.user_id, bank_code="sbank")

    def account_consent() -> Consent:
        with Session(ctx.engine) as session:
            return session.exec(
                select(Consent).where(
                    col(Consent.user_id) == user.user_id, col(Consent.kind) == ConsentKind.accounts
                )
            ).one()

    await wait_until(lambda: account_consent().status == ConsentStatus.revoked, what="revoked")
    # The person approves at the bank anyway; the onboarding's next poll must not take it.
    await emulator_admin(emulator_of(ctx), "sbank", "consents/decide", {"request_id": request_id})
    progress = await handle.result()
    assert account_consent().status == ConsentStatus.revoked
    assert [p.status for p in progress.banks] == ["error"]
    with Session(ctx.engine) as session:
        synced = session.exec(
            select(BankAccount.id).where(col(BankAccount.user_id) == user.user_id)
        ).all()
    assert synced == []
