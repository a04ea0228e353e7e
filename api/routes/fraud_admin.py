"""Fraud rules and block lists (admin writes, staff reads; audited like every staff write)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from api.deps import ContextDep, CurrentStaff, FraudManager, SessionDep
from models.fraud import (
    BlockListCreate,
    BlockListEntry,
    BlockListPublic,
    FraudRule,
    FraudRuleCreate,
    FraudRulePublic,
    FraudRuleUpdate,
)
from processing.risk import fraud

router = APIRouter()


@router.get("/fraud/rules", response_model=list[FraudRulePublic])
def list_rules(session: SessionDep, _: CurrentStaff) -> list[FraudRule]:
    """Every rule, active or not."""
    return fraud.rules(session)


@router.post("/fraud/rules", status_code=status.HTTP_201_CREATED, response_model=FraudRulePublic)
def create_rule(body: FraudRuleCreate, session: SessionDep, _: FraudManager) -> FraudRule:
    """An amount threshold (per store) or a velocity limit (per customer id, IP, recipient or
    requisite), with its outcome: `deny` or `review`."""
    return fraud.create_rule(session, body)


@router.patch("/fraud/rules/{rule_id}", response_model=FraudRulePublic)
def update_rule(
    rule_id: uuid.UUID, body: FraudRuleUpdate, session: SessionDep, _: FraudManager
) -> FraudRule:
    """Change a rule's name, outcome, numbers or switch."""
    return fraud.update_rule(session, rule_id, body)


@router.delete("/fraud/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: uuid.UUID, session: SessionDep, _: FraudManager) -> Response:
    fraud.delete_rule(session, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/fraud/block-list", response_model=list[BlockListPublic])
def list_blocked(session: SessionDep, _: CurrentStaff) -> list[BlockListEntry]:
    """Blocked values as labels (card and phone numbers by their last four digits only)."""
    return fraud.block_list(session)


@router.post(
    "/fraud/block-list", status_code=status.HTTP_201_CREATED, response_model=BlockListPublic
)
def block(
    body: BlockListCreate, session: SessionDep, ctx: ContextDep, user: FraudManager
) -> BlockListEntry:
    """Block a customer id, IP address, card or phone: matching orders are denied."""
    return fraud.add_to_block_list(
        session, body, key=ctx.settings.fingerprint_secret, user_id=user.id
    )


@router.delete("/fraud/block-list/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def unblock(entry_id: uuid.UUID, session: SessionDep, _: FraudManager) -> Response:
    fraud.remove_from_block_list(session, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
