"""Connect: onboarding, bank connections, consents, accounts and transactions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, func, select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from api.deps import CurrentAdmin, CurrentConnectUser, SessionDep, SettingsDep, TemporalDep
from api.errors import ConflictError, NotFoundError
from contracts.connect import (
    BANK_CODES,
    OnboardingInput,
    RevokeInput,
    SyncInput,
    onboarding_workflow_id,
    revoke_workflow_id,
    sync_workflow_id,
)
from models.amounts import format_minor
from models.banking import (
    AccountPublic,
    BankAccount,
    BankTransaction,
    TransactionPage,
    TransactionPublic,
)
from models.base import as_utc
from models.connect import (
    BankConnection,
    BankPublic,
    ConnectionPublic,
    ConnectionStatus,
    Consent,
    ConsentKind,
    ConsentPublic,
    ConsentStatus,
    OnboardingStarted,
    OnboardingStatus,
    RawApiLog,
    RawApiLogPublic,
    WorkflowStarted,
)
from workflows.consents import RevokeConsentWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.sync import SyncWorkflow

router = APIRouter()

BANK_NAMES = {"vbank": "VBank", "abank": "ABank", "sbank": "SBank"}
CONSENT_EXPIRY_WARNING = timedelta(days=7)


class OnboardingStart(BaseModel):
    banks: list[str] = Field(default_factory=lambda: list(BANK_CODES), min_length=1)
    allow_sandbox_sign: bool = False

    @field_validator("banks")
    @classmethod
    def known_banks(cls, banks: list[str]) -> list[str]:
        unknown = sorted(set(banks) - set(BANK_CODES))
        if unknown:
            raise ValueError(f"unknown bank codes {unknown}; known: {list(BANK_CODES)}")
        return list(dict.fromkeys(banks))


class BankConnect(BaseModel):
    allow_sandbox_sign: bool = False


def _known_bank(bank_code: str) -> str:
    if bank_code not in BANK_CODES:
        raise NotFoundError(f"Unknown bank {bank_code!r}", code="bank_not_found")
    return bank_code


def connections_of(session: Session, user_id: uuid.UUID) -> list[ConnectionPublic]:
    rows = {
        row.bank_code: row
        for row in session.exec(select(BankConnection).where(BankConnection.user_id == user_id))
    }
    expiries = _consent_expiries(session, user_id)
    now = datetime.now(UTC)
    result = []
    for bank in BANK_CODES:
        row = rows.get(bank)
        public = (
            ConnectionPublic.model_validate(row)
            if row
            else ConnectionPublic(
                bank_code=bank,
                status=ConnectionStatus.not_connected,
                step="",
                progress_pct=0,
                last_error=None,
                last_sync_at=None,
            )
        )
        expires = expiries.get(bank)
        public.consent_expires_at = expires
        public.consent_expiring_soon = bool(expires and expires - now < CONSENT_EXPIRY_WARNING)
        result.append(public)
    return result


def _authorized_consents(session: Session, user_id: uuid.UUID) -> list[Consent]:
    query = select(Consent).where(
        Consent.user_id == user_id,
        Consent.kind == ConsentKind.accounts,
        Consent.status == ConsentStatus.authorized,
    )
    return list(session.exec(query))


def _consent_expiries(session: Session, user_id: uuid.UUID) -> dict[str, datetime]:
    rows = _authorized_consents(session, user_id)
    return {row.bank_code: as_utc(row.expires_at) for row in rows if row.expires_at}


def _has_live_consent(session: Session, user_id: uuid.UUID, bank: str) -> bool:
    """An authorized account consent that has not expired (no end date counts as live)."""
    now = datetime.now(UTC)
    return any(
        row.bank_code == bank and (row.expires_at is None or as_utc(row.expires_at) > now)
        for row in _authorized_consents(session, user_id)
    )


async def _start_onboarding(
    client: Client,
    workflow_id: str,
    user_id: uuid.UUID,
    banks: list[str],
    sign: bool,
    settings: SettingsDep,
) -> None:
    await client.start_workflow(
        OnboardingWorkflow.run,
        OnboardingInput(user_id=str(user_id), banks=banks, allow_sandbox_sign=sign),
        id=workflow_id,
        task_queue=settings.temporal_task_queue,
        # Starting again while it runs attaches to the running onboarding (idempotent).
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )


@router.post(
    "/onboarding/start", status_code=status.HTTP_202_ACCEPTED, response_model=OnboardingStarted
)
async def start_onboarding(
    body: OnboardingStart, user: CurrentConnectUser, client: TemporalDep, settings: SettingsDep
) -> OnboardingStarted:
    """Connect the chosen banks: token, consents, sync and a first analytics snapshot."""
    workflow_id = onboarding_workflow_id(str(user.id))
    await _start_onboarding(
        client, workflow_id, user.id, body.banks, body.allow_sandbox_sign, settings
    )
    return OnboardingStarted(workflow_id=workflow_id, banks=body.banks)


@router.get("/onboarding/status", response_model=OnboardingStatus)
def onboarding_status(session: SessionDep, user: CurrentConnectUser) -> OnboardingStatus:
    """Per-bank status, step and progress, as mirrored from the onboarding workflow."""
    return OnboardingStatus(
        workflow_id=onboarding_workflow_id(str(user.id)), banks=connections_of(session, user.id)
    )


@router.get("/banks", response_model=list[BankPublic])
def list_banks(session: SessionDep, user: CurrentConnectUser) -> list[BankPublic]:
    """The banks a user can connect, with their connection status."""
    return [
        BankPublic(bank_code=c.bank_code, name=BANK_NAMES[c.bank_code], connection=c)
        for c in connections_of(session, user.id)
    ]


@router.post(
    "/banks/{bank_code}/connect",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OnboardingStarted,
)
async def connect_bank(
    bank_code: str,
    user: CurrentConnectUser,
    client: TemporalDep,
    settings: SettingsDep,
    body: BankConnect | None = None,
) -> OnboardingStarted:
    """Connect (or re-consent) one bank."""
    bank = _known_bank(bank_code)
    workflow_id = f"connect-{user.id}-{bank}"
    sign = body.allow_sandbox_sign if body else False
    await _start_onboarding(client, workflow_id, user.id, [bank], sign, settings)
    return OnboardingStarted(workflow_id=workflow_id, banks=[bank])


@router.post(
    "/banks/{bank_code}/sync", status_code=status.HTTP_202_ACCEPTED, response_model=WorkflowStarted
)
async def sync_bank(
    bank_code: str,
    user: CurrentConnectUser,
    client: TemporalDep,
    settings: SettingsDep,
    session: SessionDep,
) -> WorkflowStarted:
    """Sync one connected bank now (joins a sync already running)."""
    bank = _known_bank(bank_code)
    if not _has_live_consent(session, user.id, bank):
        raise ConflictError(
            f"{BANK_NAMES[bank]} has no authorized consent; connect it first",
            code="consent_required",
        )
    workflow_id = sync_workflow_id(str(user.id), bank)
    await client.start_workflow(
        SyncWorkflow.run,
        SyncInput(str(user.id), bank),
        id=workflow_id,
        task_queue=settings.temporal_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    return WorkflowStarted(workflow_id=workflow_id)


@router.get("/consents", response_model=list[ConsentPublic])
def list_consents(session: SessionDep, user: CurrentConnectUser) -> list[ConsentPublic]:
    """The user's consents at every bank, newest first."""
    query = select(Consent).where(Consent.user_id == user.id)
    rows = session.exec(query.order_by(col(Consent.created_at).desc()))
    return [ConsentPublic.from_row(row) for row in rows]


@router.delete(
    "/consents/{consent_row_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WorkflowStarted,
)
async def revoke_consent(
    consent_row_id: uuid.UUID,
    user: CurrentConnectUser,
    client: TemporalDep,
    settings: SettingsDep,
    session: SessionDep,
) -> WorkflowStarted:
    """Withdraw a consent at the bank; the bank's data stops syncing."""
    row = session.exec(
        select(Consent).where(Consent.id == consent_row_id, Consent.user_id == user.id)
    ).first()
    if row is None:
        raise NotFoundError("Consent not found", code="consent_not_found")
    if row.status not in (ConsentStatus.authorized, ConsentStatus.pending):
        raise ConflictError(f"Consent is already {row.status.value}", code="consent_not_active")
    workflow_id = revoke_workflow_id(str(row.id))
    await client.start_workflow(
        RevokeConsentWorkflow.run,
        RevokeInput(str(user.id), str(row.id)),
        id=workflow_id,
        task_queue=settings.temporal_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return WorkflowStarted(workflow_id=workflow_id)


def account_public(row: BankAccount) -> AccountPublic:
    return AccountPublic(
        **row.model_dump(exclude={"available_minor", "booked_minor"}),
        available=format_minor(row.available_minor, row.currency),
        booked=format_minor(row.booked_minor, row.currency),
    )


@router.get("/accounts", response_model=list[AccountPublic])
def list_accounts(session: SessionDep, user: CurrentConnectUser) -> list[AccountPublic]:
    """The user's synced accounts with their current balances."""
    return [account_public(row) for row in accounts_of(session, user.id)]


def accounts_of(session: Session, user_id: uuid.UUID) -> list[BankAccount]:
    query = select(BankAccount).where(BankAccount.user_id == user_id)
    return list(
        session.exec(query.order_by(col(BankAccount.bank_code), col(BankAccount.external_id)))
    )


@router.get("/transactions", response_model=TransactionPage)
def list_transactions(
    session: SessionDep,
    user: CurrentConnectUser,
    date_from: Annotated[datetime | None, Query(alias="from")] = None,
    date_to: Annotated[datetime | None, Query(alias="to")] = None,
    account_id: uuid.UUID | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TransactionPage:
    """The user's transactions, newest first, filtered by period and account."""
    query = select(BankTransaction).where(BankTransaction.user_id == user.id)
    if account_id is not None:
        owned = session.exec(
            select(BankAccount.id).where(
                BankAccount.id == account_id, BankAccount.user_id == user.id
            )
        ).first()
        if owned is None:
            raise NotFoundError("Account not found", code="account_not_found")
        query = query.where(BankTransaction.account_id == account_id)
    if date_from is not None:
        query = query.where(BankTransaction.booked_at >= date_from)
    if date_to is not None:
        query = query.where(BankTransaction.booked_at < date_to)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    ordered = query.order_by(col(BankTransaction.booked_at).desc(), col(BankTransaction.id))
    rows = session.exec(ordered.offset((page - 1) * page_size).limit(page_size))
    items = [
        TransactionPublic(
            **row.model_dump(exclude={"amount_minor"}),
            amount=format_minor(row.amount_minor, row.currency) or "0",
        )
        for row in rows
    ]
    return TransactionPage(items=items, page=page, page_size=page_size, total=total)


admin_router = APIRouter()


@admin_router.get("/raw-logs", response_model=list[RawApiLogPublic])
def raw_logs(
    session: SessionDep,
    _admin: CurrentAdmin,
    user_id: uuid.UUID | None = None,
    bank_code: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[RawApiLog]:
    """Bank requests and responses (redacted), newest first."""
    query = select(RawApiLog)
    if user_id is not None:
        query = query.where(RawApiLog.user_id == user_id)
    if bank_code is not None:
        query = query.where(RawApiLog.bank_code == bank_code)
    return list(session.exec(query.order_by(col(RawApiLog.id).desc()).limit(limit)))
