"""The statement bridge over HTTP: a trader links requisites to synced bank accounts, sets
the confirmation policy and sees what the statement offers; admins list decided credits
(orphans first to look at) and flagged orders."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ContextDep, CurrentStaff, CurrentTraderProfile, SessionDep, TemporalDep
from models.statement import (
    CreditOutcome,
    CreditPublic,
    FlaggedOrder,
    RequisiteLink,
    StatementPolicyUpdate,
    StatementView,
)
from models.traders import RequisitePublic
from processing.bridge import links as statement_links

router = APIRouter()
admin_router = APIRouter()


@router.post("/requisites/{requisite_id}/link", response_model=RequisitePublic)
async def link_requisite(
    requisite_id: uuid.UUID,
    body: RequisiteLink,
    ctx: ContextDep,
    client: TemporalDep,
    trader: CurrentTraderProfile,
) -> RequisitePublic:
    """Link the requisite to one of my synced accounts (`GET /api/accounts`): the bank is
    asked for the account's number, which must be the requisite's (422
    `account_number_mismatch`). Credits on it then confirm my pay-ins (policy `auto`) or are
    offered to me (`suggest`)."""
    return await statement_links.link(ctx, client, trader, requisite_id, body)


@router.delete("/requisites/{requisite_id}/link", response_model=RequisitePublic)
def unlink_requisite(
    requisite_id: uuid.UUID, session: SessionDep, trader: CurrentTraderProfile
) -> RequisitePublic:
    """Stop reading this requisite's account: its orders are confirmed by hand again."""
    return statement_links.unlink(session, trader, requisite_id)


@router.get("/statement", response_model=StatementView)
def my_statement(session: SessionDep, trader: CurrentTraderProfile) -> StatementView:
    """My policy, the watch's last word on my bank (`ok`, `rate_limited`, `bank_unavailable`,
    `consent_required`) and "money arrived: confirm?" suggestions for my open orders."""
    return statement_links.view(session, trader)


@router.put("/statement/policy", response_model=StatementView)
def set_policy(
    body: StatementPolicyUpdate, session: SessionDep, trader: CurrentTraderProfile
) -> StatementView:
    """`auto`: a matching credit confirms at once; `suggest`: it is offered to me first."""
    return statement_links.set_policy(session, trader, body.policy)


@admin_router.get("/statement-credits", response_model=list[CreditPublic])
def statement_credits(
    session: SessionDep,
    _staff: CurrentStaff,
    outcome: CreditOutcome | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[CreditPublic]:
    """Credits on linked accounts as decided, newest first (`orphan`: no open order took it)."""
    return statement_links.credits(session, outcome=outcome, limit=limit)


@admin_router.get("/flagged-orders", response_model=list[FlaggedOrder])
def flagged_orders(
    session: SessionDep,
    _staff: CurrentStaff,
    flag: Annotated[str, Query(min_length=1, max_length=40, pattern="^[a-z_]+$")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[FlaggedOrder]:
    """Pay-ins carrying a flag (`unverified_confirmation`, `near_amount_credit`,
    `ambiguous_credit`), newest first."""
    return statement_links.flagged(session, flag=flag, limit=limit)
