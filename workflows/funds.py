"""What the deposit and withdrawal workflows share: the staff approval rule (maker-checker),
the database step of each transition, search attributes, the merchant callback.

Standard library and Temporal only (workflow code): activities are called by name.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

from contracts import funds as f
from contracts import processing as p
from contracts.search_attributes import FUNDS_KIND, FUNDS_STATUS
from workflows.callback import CallbackWorkflow
from workflows.orders import DB_RETRY, invalid, new_event_id
from workflows.steps import run_step


def check_approver(actor_id: str, approvers: list[str]) -> None:
    """Maker-checker: nobody approves twice, nor a request they made themselves."""
    if actor_id in approvers:
        raise invalid("a second, different staff member must approve", f.SAME_APPROVER)


async def record(
    activity: str,
    funds_id: str,
    before: str,
    to: str,
    actor: tuple[str, str | None],
    **extra: str | None,
) -> f.FundsTransitionResult:
    """Mirror one step into the database (a local activity: one transaction, run in the
    workflow task that decided it) and show it in the Temporal UI."""
    inp = f.FundsTransition(funds_id, before, to, actor[0], actor[1], **extra)
    result: f.FundsTransitionResult = await run_step(
        activity,
        inp,
        local=True,
        limit=timedelta(seconds=15),
        retry=DB_RETRY,
        result_type=f.FundsTransitionResult,
    )
    who = actor[0] + (f" {actor[1]}" if actor[1] else "")
    workflow.set_current_details(f"**{to}** by {who}")
    return result


def publish(kind: f.FundsKind, status: str) -> None:
    workflow.upsert_search_attributes([FUNDS_KIND.value_set(kind), FUNDS_STATUS.value_set(status)])


async def start_callback(
    event_id: str, funds_id: str, event_type: str, delays_s: list[int]
) -> None:  # fmt: skip
    """The merchant's event (its delivery row already written with the transition) goes
    over the same ladder as orders' events; it outlives this workflow."""
    await workflow.start_child_workflow(
        CallbackWorkflow.run,
        p.CallbackInput(event_id, funds_id, event_type, delays_s),
        id=p.callback_workflow_id(event_id),
        parent_close_policy=ParentClosePolicy.ABANDON,
    )


__all__ = ["check_approver", "invalid", "new_event_id", "publish", "record", "start_callback"]
