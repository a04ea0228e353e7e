"""The orphan reconciler: orders committed as `created` whose workflow never started (the
workflow engine was down at create time and the merchant did not retry). A Temporal schedule
runs `ReconcileWorkflow` on every worker task queue; standard library only."""

from __future__ import annotations

from dataclasses import dataclass

RECONCILE_WORKFLOW = "ReconcileWorkflow"
RECONCILE_EVERY_S = 60


def reconcile_schedule_id(task_queue: str) -> str:
    return f"reconcile-orphans-{task_queue}"


@dataclass
class ReconcileInput:
    grace_seconds: int  # an order younger than this may still be starting
    limit: int = 200  # orders looked at per run


@dataclass
class ReconcileResult:
    examined: int
    failed: list[str]  # order ids failed as `not_started`
