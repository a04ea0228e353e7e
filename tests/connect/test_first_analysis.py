"""The first analysis comes as soon as one bank is synced: a consent awaiting the person's
signature at another bank does not hold it back (it once did, for as long as it waited)."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from core.context import ServiceContext
from tests.connect.helpers import connect_user, start_onboarding, wait_until
from workflows.onboarding import OnboardingWorkflow


async def test_one_ready_bank_is_analysed_while_another_awaits_approval(
    api: httpx.AsyncClient, ctx: ServiceContext, temporal_client: Client, worker: None
) -> None:
    user = await connect_user(api, ctx, slot=5)
    # SBank waits for the person's own approval (no sandbox signing), for an hour.
    handle = await start_onboarding(
        temporal_client, ctx, user.user_id, ["vbank", "sbank"], consent_deadline_seconds=3600
    )
    try:

        async def analysed() -> dict[str, object] | None:
            body = (await api.get("/api/dashboard", headers=user.headers)).json()
            return body if body["metrics"] else None

        board = await wait_until(analysed, 90, "the first analysis")
        statuses = {b["bank_code"]: (b["status"], b["step"]) for b in board["banks"]}
        assert statuses["vbank"][0] == "ready"
        assert statuses["sbank"] == ("consent_pending", "awaiting_signature_accounts")
        assert board["status"] == "ready" and board["refreshing"] is True
        assert {a["bank_code"] for a in board["accounts"]} == {"vbank"}
        # The workflow is still waiting for SBank: nothing about it has finished.
        progress = await handle.query(OnboardingWorkflow.progress)
        assert progress.finished is False
    finally:
        await handle.terminate("test over")
