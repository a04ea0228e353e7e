"""Categorisation rules (admin): validated changes, then a platform-wide re-categorisation.

Every change starts `RecategoriseWorkflow`, which re-applies the rules to stored
transactions and refreshes the snapshots of users whose categories changed. The rule is
committed first; if Temporal is down the change stands and the next scheduled snapshot
applies it (each snapshot re-categorises), and the answer says no workflow started.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from sqlmodel import Session, col, select
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from analytics import CategoryRule
from analytics.categories import OWN_TRANSFER
from contracts.analytics import RECATEGORISE_WORKFLOW_ID, RecategoriseAllInput
from core.context import ServiceContext
from core.errors import Conflict, Invalid, NotFound
from models.analytics import (
    RULE_CRITERIA,
    CategoryRuleChanged,
    CategoryRuleCreate,
    CategoryRulePublic,
    CategoryRuleRow,
    CategoryRuleUpdate,
)
from models.base import utcnow
from workflows.recategorise import RecategoriseWorkflow

log = logging.getLogger(__name__)


def validate_rule(row: CategoryRuleRow) -> None:
    """Refuse rules the categoriser would refuse or that would match everything."""
    if row.category == OWN_TRANSFER:
        raise Invalid(
            "own_transfer is assigned by pairing transfers, not by rules", code="reserved_category"
        )
    if not any(getattr(row, name) for name in RULE_CRITERIA):
        raise Invalid("A rule needs at least one criterion", code="rule_without_criteria")
    try:
        re.compile(row.text_pattern or "")
        CategoryRule(row.id, row.priority, row.category, text_pattern=row.text_pattern)
    except (re.error, ValueError) as exc:
        raise Invalid(
            "text_pattern is not a valid regular expression",
            code="invalid_rule_pattern",
            details={"text_pattern": row.text_pattern, "error": str(exc)},
        ) from exc


def rules(session: Session) -> list[CategoryRuleRow]:
    """In the order they are tried (priority, then id)."""
    query = select(CategoryRuleRow).order_by(col(CategoryRuleRow.priority), col(CategoryRuleRow.id))
    return list(session.exec(query))


def _get(session: Session, rule_id: str) -> CategoryRuleRow:
    row = session.get(CategoryRuleRow, rule_id)
    if row is None:
        raise NotFound(f"Rule {rule_id!r} not found", code="rule_not_found")
    return row


def _save(session: Session, row: CategoryRuleRow) -> CategoryRulePublic:
    validate_rule(row)
    session.add(row)
    session.commit()
    return CategoryRulePublic.model_validate(row)


def create_rule(session: Session, *, body: CategoryRuleCreate) -> CategoryRulePublic:
    rule_id = body.id or f"rule-{secrets.token_hex(4)}"
    if session.get(CategoryRuleRow, rule_id) is not None:
        raise Conflict(f"Rule {rule_id!r} exists", code="rule_exists")
    return _save(session, CategoryRuleRow(id=rule_id, **body.model_dump(exclude={"id"})))


def update_rule(session: Session, *, rule_id: str, body: CategoryRuleUpdate) -> CategoryRulePublic:
    row = _get(session, rule_id)
    changes: dict[str, Any] = body.model_dump(include=body.model_fields_set)
    for name in ("priority", "category"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", code="validation_error")
    for name, value in changes.items():
        setattr(row, name, [] if name == "mcc_codes" and value is None else value)
    row.updated_at = utcnow()
    return _save(session, row)


def delete_rule(session: Session, *, rule_id: str) -> None:
    session.delete(_get(session, rule_id))
    session.commit()


async def recategorise_after(
    ctx: ServiceContext, *, rule: CategoryRulePublic | None, change: str, rule_id: str
) -> CategoryRuleChanged:
    """Start (or restart with the newest rules) the platform-wide re-categorisation."""
    reason = f"rule {rule_id} {change}"
    workflow_id: str | None = RECATEGORISE_WORKFLOW_ID
    try:
        client = await ctx.temporal.get()
        await client.start_workflow(
            RecategoriseWorkflow.run,
            RecategoriseAllInput(reason=reason),
            id=RECATEGORISE_WORKFLOW_ID,
            task_queue=ctx.settings.temporal_task_queue,
            # A run still using the previous rules is obsolete: replace it.
            id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    except Exception:
        log.exception("could not start re-categorisation after: %s", reason)
        workflow_id = None
    deleted = rule_id if change == "deleted" else None
    return CategoryRuleChanged(rule=rule, deleted=deleted, recategorisation_workflow_id=workflow_id)
