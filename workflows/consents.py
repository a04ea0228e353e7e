"""RevokeConsentWorkflow: the user withdraws a consent; the bank is told, durably."""

from __future__ import annotations

from temporalio import workflow

from contracts import connect as c
from workflows.sync import bank_call


@workflow.defn
class RevokeConsentWorkflow:
    @workflow.run
    async def run(self, inp: c.RevokeInput) -> c.ConsentState:
        return await bank_call(c.ConnectActivity.revoke_consent, inp, c.ConsentState)
