"""Build B of the worker rollout drill: today's pay-in, pay-out and onboarding workflows with
one change behind `workflow.patched`, under the same workflow type names.

The change is a real one in what a run records: it writes a memo (shown by `describe` and
the Temporal UI) at two points, each behind a patch of its own. A memo upsert is a command
in the history, so a build without the patch could not replay runs begun before it.

- `PATCH_AT_START`, decided when the run starts: a run started by build A replays it as not
  patched on B (its history has no marker there), so it never gets `started_by_b`;
- `PATCH_AT_END`, decided when the run finishes: a run started by A that finishes on B
  reaches that point for the first time on B, so it does get `finished_by_b`.

Test-only: `rollout_b_worker` swaps these in for the production classes before it runs
worker.py's own main(). Like every workflow module this one imports only Temporal,
contracts and workflows (the sandbox imports it for each run).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio import workflow

from contracts import connect as c
from contracts import processing as p
from workflows.onboarding import OnboardingWorkflow
from workflows.payin import PayinWorkflow
from workflows.payout import PayoutWorkflow

PATCH_AT_START = "drill-rollout-start"
PATCH_AT_END = "drill-rollout-end"
STARTED, FINISHED = "started_by_b", "finished_by_b"
R = TypeVar("R")


def stamp(patch: str, key: str) -> None:
    if workflow.patched(patch):
        workflow.upsert_memo({key: workflow.info().workflow_type})


async def around(run: Coroutine[Any, Any, R]) -> R:
    """Today's run (not started until awaited here), between B's two stamps."""
    stamp(PATCH_AT_START, STARTED)
    result = await run
    stamp(PATCH_AT_END, FINISHED)
    return result


@workflow.defn(name="PayinWorkflow")
class PayinWorkflowB(PayinWorkflow):
    @workflow.run
    async def run(self, inp: p.PayinInput) -> p.PayinResult:
        return await around(super().run(inp))


@workflow.defn(name="PayoutWorkflow")
class PayoutWorkflowB(PayoutWorkflow):
    @workflow.run
    async def run(self, inp: p.PayoutInput) -> p.PayinResult:
        return await around(super().run(inp))


@workflow.defn(name="OnboardingWorkflow")
class OnboardingWorkflowB(OnboardingWorkflow):
    @workflow.run
    async def run(self, inp: c.OnboardingInput) -> c.OnboardingProgress:
        return await around(super().run(inp))


# What build B registers instead of build A's definitions.
SWAPS: dict[type, type] = {
    PayinWorkflow: PayinWorkflowB,
    PayoutWorkflow: PayoutWorkflowB,
    OnboardingWorkflow: OnboardingWorkflowB,
}
