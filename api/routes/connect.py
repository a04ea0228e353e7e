"""Connect: onboarding, bank connections, consents, accounts and transactions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.audit import record
from api.deps import (
    AuditReader,
    ContextDep,
    CurrentConnectUser,
    CurrentStaff,
    ReferenceManager,
    SessionDep,
    TemporalDep,
)
from connect import data, identities, onboarding
from connect.bank_access import BankAccess
from connect.connections import BANK_NAMES, connections_of
from connect.identity_release import release_everywhere
from contracts.connect import onboarding_workflow_id
from models.banking import AccountPublic, TransactionPage
from models.cabinet import CURSOR_PATTERN
from models.connect import (
    BankConnect,
    BankPublic,
    ConsentPublic,
    OnboardingStart,
    OnboardingStarted,
    OnboardingStatus,
    RawApiLog,
    RawApiLogPublic,
    WorkflowStarted,
)
from models.inputs import Moment
from models.users import IdentityAssign, SandboxIdentity, SandboxIdentityPublic

router = APIRouter()
MAX_PAGE = 1_000_000
admin_router = APIRouter()
ACCEPTED = status.HTTP_202_ACCEPTED


@router.post("/onboarding/start", status_code=ACCEPTED, response_model=OnboardingStarted)
async def start_onboarding(
    body: OnboardingStart, user: CurrentConnectUser, ctx: ContextDep, client: TemporalDep
) -> OnboardingStarted:
    """Connect the chosen banks: token, consents, sync and a first analytics snapshot."""
    return await onboarding.start_onboarding(
        ctx, client, user_id=user.id, banks=list(body.banks), sign=body.allow_sandbox_sign
    )


@router.get("/onboarding/status", response_model=OnboardingStatus)
def onboarding_status(session: SessionDep, user: CurrentConnectUser) -> OnboardingStatus:
    """Per-bank status, step and progress, as mirrored from the onboarding workflow."""
    return OnboardingStatus(
        workflow_id=onboarding_workflow_id(str(user.id)),
        banks=connections_of(session, user_id=user.id),
    )


@router.get("/banks", response_model=list[BankPublic])
def list_banks(session: SessionDep, user: CurrentConnectUser) -> list[BankPublic]:
    """The banks a user can connect, with their connection status."""
    return [
        BankPublic(bank_code=c.bank_code, name=BANK_NAMES[c.bank_code], connection=c)
        for c in connections_of(session, user_id=user.id)
    ]


@router.post("/banks/{bank_code}/connect", status_code=ACCEPTED, response_model=OnboardingStarted)
async def connect_bank(
    bank_code: str,
    user: CurrentConnectUser,
    ctx: ContextDep,
    client: TemporalDep,
    body: BankConnect | None = None,
) -> OnboardingStarted:
    """Connect (or re-consent) one bank."""
    sign = body.allow_sandbox_sign if body else False
    return await onboarding.connect_bank(
        ctx, client, user_id=user.id, bank_code=bank_code, sign=sign
    )


@router.post(
    "/banks/{bank_code}/consent/check", status_code=ACCEPTED, response_model=WorkflowStarted
)
async def check_consent(
    bank_code: str, user: CurrentConnectUser, ctx: ContextDep, client: TemporalDep
) -> WorkflowStarted:
    """ "I approved it in my bank": check the pending consent now (poll and probe)."""
    return await onboarding.check_consent(ctx, client, user_id=user.id, bank_code=bank_code)


@router.post("/banks/{bank_code}/sync", status_code=ACCEPTED, response_model=WorkflowStarted)
async def sync_bank(
    bank_code: str, user: CurrentConnectUser, ctx: ContextDep, client: TemporalDep
) -> WorkflowStarted:
    """Sync one connected bank now (joins a sync already running)."""
    return await onboarding.sync_now(ctx, client, user_id=user.id, bank_code=bank_code)


@router.get("/consents", response_model=list[ConsentPublic])
def list_consents(session: SessionDep, user: CurrentConnectUser) -> list[ConsentPublic]:
    """The user's consents at every bank, newest first."""
    return data.consents_of(session, user_id=user.id)


@router.delete("/consents/{consent_row_id}", status_code=ACCEPTED, response_model=WorkflowStarted)
async def revoke_consent(
    consent_row_id: uuid.UUID, user: CurrentConnectUser, ctx: ContextDep, client: TemporalDep
) -> WorkflowStarted:
    """Withdraw a consent at the bank; the bank's data stops syncing."""
    return await onboarding.revoke(ctx, client, user_id=user.id, consent_row_id=consent_row_id)


@router.get("/accounts", response_model=list[AccountPublic])
def list_accounts(session: SessionDep, user: CurrentConnectUser) -> list[AccountPublic]:
    """The user's synced accounts with their current balances."""
    return [data.account_public(row) for row in data.accounts_of(session, user_id=user.id)]


@router.get("/transactions", response_model=TransactionPage)
def list_transactions(
    session: SessionDep,
    user: CurrentConnectUser,
    date_from: Annotated[Moment | None, Query(alias="from")] = None,
    date_to: Annotated[Moment | None, Query(alias="to")] = None,
    account_id: uuid.UUID | None = None,
    # Bounded: page × page_size is an OFFSET the database must hold (64-bit on SQLite).
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    # The previous page's `next_cursor`; pages by position instead of `page`.
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, max_length=49)] = None,
) -> TransactionPage:
    """The user's transactions, newest first, filtered by period and account. `total` is
    exact up to 1,000 (`total_exact`); `next_cursor` gives the next page."""
    return data.transactions_page(
        session,
        user_id=user.id,
        date_from=date_from,
        date_to=date_to,
        account_id=account_id,
        page=page,
        page_size=page_size,
        cursor=cursor,
    )


@admin_router.get("/raw-logs", response_model=list[RawApiLogPublic])
def raw_logs(
    session: SessionDep,
    _admin: AuditReader,
    user_id: uuid.UUID | None = None,
    bank_code: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[RawApiLog]:
    """Bank requests and responses (redacted), newest first."""
    return data.raw_logs(session, user_id=user_id, bank_code=bank_code, limit=limit)


@admin_router.get("/sandbox-identities", response_model=list[SandboxIdentityPublic])
def list_sandbox_identities(ctx: ContextDep, _admin: CurrentStaff) -> list[SandboxIdentity]:
    """The banks' sandbox end users of our team and who holds each."""
    identities.ensure_pool(ctx.engine, ctx.settings)
    return identities.list_identities(ctx.engine)


@admin_router.post(
    "/sandbox-identities/{external_client_id}/assign", response_model=SandboxIdentityPublic
)
def assign_sandbox_identity(
    external_client_id: str,
    body: IdentityAssign,
    request: Request,
    ctx: ContextDep,
    admin: ReferenceManager,
) -> SandboxIdentity:
    """Give a free identity to a Connect user who holds none."""
    identities.ensure_pool(ctx.engine, ctx.settings)
    assigned = identities.assign_specific(ctx.engine, external_client_id, body.user_id)
    record(
        request,
        ctx.engine,
        actor=admin.id,
        target_type="SandboxIdentity",
        target_id=external_client_id,
        before={"user_id": None},
        after={"user_id": body.user_id},
    )
    return assigned


@admin_router.post(
    "/sandbox-identities/{external_client_id}/release", response_model=SandboxIdentityPublic
)
async def release_sandbox_identity(
    external_client_id: str,
    request: Request,
    ctx: ContextDep,
    client: TemporalDep,
    admin: ReferenceManager,
) -> SandboxIdentity:
    """Free an identity: its holder's consents are revoked at the banks, and what was synced
    from it is deleted, before anybody else can take it (409 while a bank still answers)."""
    bank = BankAccess(ctx)
    try:
        held = identities.get_identity(ctx.engine, external_client_id).user_id
        released = await release_everywhere(bank, client, external_client_id)
    finally:
        await bank.close()
    record(
        request,
        ctx.engine,
        actor=admin.id,
        target_type="SandboxIdentity",
        target_id=external_client_id,
        before={"user_id": held},
        after={"user_id": None},
    )
    return released
