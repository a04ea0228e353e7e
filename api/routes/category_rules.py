"""Admin: the transaction categorisation rules (`/api/admin/category-rules`).

Every change starts `RecategoriseWorkflow`, which re-applies the rules to stored
transactions and refreshes the snapshots of users whose categories changed. The rule is
committed first; if Temporal is down the change stands and the next scheduled snapshot
applies it (each snapshot re-categorises), and the response says no workflow started.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from analytics import CategoryRule
from analytics.categories import OWN_TRANSFER
from api.deps import ContextDep, CurrentAdmin, SessionDep
from api.errors import AppError, ConflictError, NotFoundError
from contracts.analytics import RECATEGORISE_WORKFLOW_ID, RecategoriseAllInput
from core.context import ServiceContext
from models.analytics import CategoryRuleChanged, CategoryRulePublic, CategoryRuleRow
from models.base import utcnow
from workflows.recategorise import RecategoriseWorkflow

log = logging.getLogger(__name__)
router = APIRouter()

Mcc = Annotated[str, Field(pattern=r"^\d{4}$")]
_CRITERIA = ("bank_tx_code", "mcc_codes", "merchant_category", "text_pattern", "direction")


class CategoryRuleFields(BaseModel):
    priority: int = Field(ge=0, le=100_000)
    category: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    bank_tx_code: str | None = Field(default=None, min_length=1, max_length=64)
    mcc_codes: list[Mcc] = Field(default_factory=list, max_length=200)
    merchant_category: str | None = Field(default=None, min_length=1, max_length=100)
    text_pattern: str | None = Field(default=None, min_length=1, max_length=500)
    direction: Literal["credit", "debit"] | None = None


class CategoryRuleCreate(CategoryRuleFields):
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")


class CategoryRuleUpdate(BaseModel):
    """Only the fields sent change; send null to clear a criterion."""

    priority: int | None = Field(default=None, ge=0, le=100_000)
    category: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    bank_tx_code: str | None = Field(default=None, min_length=1, max_length=64)
    mcc_codes: list[Mcc] | None = Field(default=None, max_length=200)
    merchant_category: str | None = Field(default=None, min_length=1, max_length=100)
    text_pattern: str | None = Field(default=None, min_length=1, max_length=500)
    direction: Literal["credit", "debit"] | None = None


def validate_rule(row: CategoryRuleRow) -> None:
    """422 for rules the categoriser would refuse or that would match everything."""
    if row.category == OWN_TRANSFER:
        raise AppError(
            "own_transfer is assigned by pairing transfers, not by rules",
            code="reserved_category",
            status_code=422,
        )
    if not any(getattr(row, name) for name in _CRITERIA):
        raise AppError(
            "A rule needs at least one criterion", code="rule_without_criteria", status_code=422
        )
    try:
        re.compile(row.text_pattern or "")
        CategoryRule(row.id, row.priority, row.category, text_pattern=row.text_pattern)
    except (re.error, ValueError) as exc:
        raise AppError(
            "text_pattern is not a valid regular expression",
            code="invalid_rule_pattern",
            status_code=422,
            details={"text_pattern": row.text_pattern, "error": str(exc)},
        ) from exc


async def start_recategorisation(ctx: ServiceContext, reason: str) -> str | None:
    """Start (or restart with the newest rules) the platform-wide re-categorisation."""
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
        return None
    return RECATEGORISE_WORKFLOW_ID


def _get(session: Session, rule_id: str) -> CategoryRuleRow:
    row = session.get(CategoryRuleRow, rule_id)
    if row is None:
        raise NotFoundError(f"Rule {rule_id!r} not found", code="rule_not_found")
    return row


def _save(session: Session, row: CategoryRuleRow) -> CategoryRulePublic:
    validate_rule(row)
    session.add(row)
    session.commit()
    return CategoryRulePublic.model_validate(row)


@router.get("/category-rules", response_model=list[CategoryRulePublic])
def list_rules(session: SessionDep, _admin: CurrentAdmin) -> list[CategoryRuleRow]:
    """Categorisation rules in the order they are tried (priority, then id)."""
    query = select(CategoryRuleRow).order_by(col(CategoryRuleRow.priority), col(CategoryRuleRow.id))
    return list(session.exec(query))


@router.post(
    "/category-rules", status_code=status.HTTP_201_CREATED, response_model=CategoryRuleChanged
)
async def create_rule(
    body: CategoryRuleCreate, session: SessionDep, ctx: ContextDep, _admin: CurrentAdmin
) -> CategoryRuleChanged:
    """Add a rule and re-categorise stored transactions."""
    rule_id = body.id or f"rule-{secrets.token_hex(4)}"

    def create() -> CategoryRulePublic:
        if session.get(CategoryRuleRow, rule_id) is not None:
            raise ConflictError(f"Rule {rule_id!r} exists", code="rule_exists")
        return _save(session, CategoryRuleRow(id=rule_id, **body.model_dump(exclude={"id"})))

    rule = await run_in_threadpool(create)
    workflow_id = await start_recategorisation(ctx, f"rule {rule_id} created")
    return CategoryRuleChanged(rule=rule, recategorisation_workflow_id=workflow_id)


@router.patch("/category-rules/{rule_id}", response_model=CategoryRuleChanged)
async def update_rule(
    rule_id: str,
    body: CategoryRuleUpdate,
    session: SessionDep,
    ctx: ContextDep,
    _admin: CurrentAdmin,
) -> CategoryRuleChanged:
    """Change a rule and re-categorise stored transactions."""

    def update() -> CategoryRulePublic:
        row = _get(session, rule_id)
        changes: dict[str, Any] = body.model_dump(include=body.model_fields_set)
        for name in ("priority", "category"):
            if name in changes and changes[name] is None:
                raise AppError(f"{name} cannot be null", code="validation_error", status_code=422)
        for name, value in changes.items():
            setattr(row, name, [] if name == "mcc_codes" and value is None else value)
        row.updated_at = utcnow()
        return _save(session, row)

    rule = await run_in_threadpool(update)
    workflow_id = await start_recategorisation(ctx, f"rule {rule_id} updated")
    return CategoryRuleChanged(rule=rule, recategorisation_workflow_id=workflow_id)


@router.delete("/category-rules/{rule_id}", response_model=CategoryRuleChanged)
async def delete_rule(
    rule_id: str, session: SessionDep, ctx: ContextDep, _admin: CurrentAdmin
) -> CategoryRuleChanged:
    """Remove a rule and re-categorise stored transactions."""

    def delete() -> None:
        session.delete(_get(session, rule_id))
        session.commit()

    await run_in_threadpool(delete)
    workflow_id = await start_recategorisation(ctx, f"rule {rule_id} deleted")
    return CategoryRuleChanged(rule=None, deleted=rule_id, recategorisation_workflow_id=workflow_id)
