"""A stand-in `SyncWorkflow` for RefreshWorkflow's tests (own module: the workflow sandbox
re-imports it, so it imports only Temporal and the contracts)."""

from __future__ import annotations

from temporalio import workflow

from contracts import connect as c


@workflow.defn(name="SyncWorkflow")
class StandInSync:
    """vbank syncs fine, abank's consent is gone, sbank never finishes (a sync in flight)."""

    @workflow.run
    async def run(self, inp: c.SyncInput) -> c.SyncResult:
        if inp.bank_code == "sbank":
            await workflow.wait_condition(lambda: False)
        status = "reconsent_required" if inp.bank_code == "abank" else "ready"
        return c.SyncResult(inp.user_id, inp.bank_code, status)
