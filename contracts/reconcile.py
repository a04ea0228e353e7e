"""The orphan reconciler: orders committed as `created` whose workflow never started (the
workflow engine was down at create time and the merchant did not retry) are failed; deposits
and withdrawals whose workflow never started are started. A Temporal schedule runs
`ReconcileWorkflow` on every worker task queue; standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field

RECONCILE_WORKFLOW = "ReconcileWorkflow"
RECONCILE_EVERY_S = 60


def reconcile_schedule_id(task_queue: str) -> str:
    return f"reconcile-orphans-{task_queue}"


@dataclass
class ReconcileInput:
    grace_seconds: int  # an order younger than this may still be starting
    limit: int = 200  # orders (and deposits, and withdrawals) looked at per run


@dataclass
class ReconcileResult:
    examined: int
    failed: list[str]  # order ids failed as `not_started`
    # Deposit and withdrawal ids whose workflow this pass started (or found running).
    started: list[str] = field(default_factory=list)
    # Update ids of actions answered 202 that Temporal had lost (a restart before a worker
    # accepted them), sent again by this pass.
    resent: list[str] = field(default_factory=list)
