"""Admin: the transaction categorisation rules (`/api/admin/category-rules`)."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool

from api.deps import ContextDep, CurrentStaff, ReferenceManager, SessionDep
from connect import category_rules
from models.analytics import (
    CategoryRuleChanged,
    CategoryRuleCreate,
    CategoryRulePublic,
    CategoryRuleRow,
    CategoryRuleUpdate,
)

router = APIRouter()


@router.get("/category-rules", response_model=list[CategoryRulePublic])
def list_rules(session: SessionDep, _admin: CurrentStaff) -> list[CategoryRuleRow]:
    """Categorisation rules in the order they are tried (priority, then id)."""
    return category_rules.rules(session)


@router.post(
    "/category-rules", status_code=status.HTTP_201_CREATED, response_model=CategoryRuleChanged
)
async def create_rule(
    body: CategoryRuleCreate, session: SessionDep, ctx: ContextDep, _admin: ReferenceManager
) -> CategoryRuleChanged:
    """Add a rule and re-categorise stored transactions."""
    rule = await run_in_threadpool(lambda: category_rules.create_rule(session, body=body))
    return await category_rules.recategorise_after(
        ctx, rule=rule, change="created", rule_id=rule.id
    )


@router.patch("/category-rules/{rule_id}", response_model=CategoryRuleChanged)
async def update_rule(
    rule_id: str,
    body: CategoryRuleUpdate,
    session: SessionDep,
    ctx: ContextDep,
    _: ReferenceManager,
) -> CategoryRuleChanged:
    """Change a rule and re-categorise stored transactions."""
    rule = await run_in_threadpool(
        lambda: category_rules.update_rule(session, rule_id=rule_id, body=body)
    )
    return await category_rules.recategorise_after(
        ctx, rule=rule, change="updated", rule_id=rule_id
    )


@router.delete("/category-rules/{rule_id}", response_model=CategoryRuleChanged)
async def delete_rule(
    rule_id: str, session: SessionDep, ctx: ContextDep, _admin: ReferenceManager
) -> CategoryRuleChanged:
    """Remove a rule and re-categorise stored transactions."""
    await run_in_threadpool(lambda: category_rules.delete_rule(session, rule_id=rule_id))
    return await category_rules.recategorise_after(
        ctx, rule=None, change="deleted", rule_id=rule_id
    )
