"""Connect services that start workflows: onboarding, connecting one bank, sync now, revoke.

Each start is idempotent: the workflow id is the business key, and starting again while it
runs attaches to the running one. Reads are short sessions, never held across a start.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from connect.connections import BANK_NAMES
from connect.consent_rows import WITHDRAWABLE
from connect.consents import live_consent
from connect.errors import ConsentNotFound, NoLiveConsent, UnknownBank
from connect.identities import assign_identity
from contracts.connect import (
    BANK_CODES,
    OnboardingInput,
    OnboardingSignal,
    RevokeInput,
    RevokeSignal,
    SyncInput,
    connect_workflow_id,
    onboarding_workflow_id,
    revoke_workflow_id,
    sync_workflow_id,
)
from core.context import ServiceContext
from core.errors import Conflict
from models.connect import (
    Consent,
    ConsentKind,
    ConsentStatus,
    OnboardingStarted,
    WorkflowStarted,
)
from workflows.consents import RevokeConsentWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.sync import SyncWorkflow, sync_search_attributes

# Starting again while one runs attaches to it; a finished one may run again under its id.
ATTACH = WorkflowIDConflictPolicy.USE_EXISTING
RERUN = WorkflowIDReusePolicy.ALLOW_DUPLICATE


def known_bank(bank_code: str) -> str:
    if bank_code not in BANK_CODES:
        raise UnknownBank(bank_code)
    return bank_code


async def _onboard(
    ctx: ServiceContext,
    client: Client,
    workflow_id: str,
    user_id: uuid.UUID,
    banks: list[str],
    sign: bool,
) -> OnboardingStarted:
    # The user's own sandbox identity, taken now (409 no_sandbox_identity when none is free).
    await asyncio.to_thread(assign_identity, ctx.engine, ctx.settings, user_id)
    await client.start_workflow(
        OnboardingWorkflow.run,
        OnboardingInput(user_id=str(user_id), banks=banks, allow_sandbox_sign=sign),
        id=workflow_id,
        task_queue=ctx.settings.temporal_task_queue,
        static_summary=f"onboarding {user_id} · {', '.join(banks)}",
        id_conflict_policy=ATTACH,
        id_reuse_policy=RERUN,
    )
    return OnboardingStarted(workflow_id=workflow_id, banks=banks)


async def start_onboarding(
    ctx: ServiceContext, client: Client, *, user_id: uuid.UUID, banks: list[str], sign: bool
) -> OnboardingStarted:
    """Connect the chosen banks: token, consents, sync and a first analytics snapshot."""
    workflow_id = onboarding_workflow_id(str(user_id))
    return await _onboard(ctx, client, workflow_id, user_id, banks, sign)


async def connect_bank(
    ctx: ServiceContext, client: Client, *, user_id: uuid.UUID, bank_code: str, sign: bool
) -> OnboardingStarted:
    """Connect (or re-consent) one bank, apart from the first onboarding."""
    bank = known_bank(bank_code)
    workflow_id = connect_workflow_id(str(user_id), bank)
    return await _onboard(ctx, client, workflow_id, user_id, [bank], sign)


async def check_consent(
    ctx: ServiceContext, client: Client, *, user_id: uuid.UUID, bank_code: str
) -> WorkflowStarted:
    """ "I approved it in my bank": the workflow awaiting this bank's consent polls and probes
    at once instead of at its next backoff tick."""
    bank = known_bank(bank_code)
    for workflow_id in (
        connect_workflow_id(str(user_id), bank),
        onboarding_workflow_id(str(user_id)),
    ):
        # Signal, not "describe, then signal if running": a workflow may end in between,
        # and the signal itself says NOT_FOUND for one that is absent or has ended.
        try:
            await client.get_workflow_handle(workflow_id).signal(
                OnboardingSignal.consent_check, bank
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                continue
            raise
        return WorkflowStarted(workflow_id=workflow_id)
    # Nothing is being connected: a consent withdrawn but still held by the bank ("I revoked
    # it in my bank's app"), or an agreement consent approved on the bank's side.
    held = await asyncio.to_thread(_consents, ctx, user_id, bank, ConsentStatus.revoke_pending)
    if held:
        started = await keep_probing(ctx, client, user_id, held)
        return WorkflowStarted(workflow_id=started[0])
    kind = ConsentKind.product_agreements
    if await asyncio.to_thread(_consents, ctx, user_id, bank, ConsentStatus.pending, kind):
        # The sync looks for the approval (a data call) and reads the agreements once seen.
        return await sync_now(ctx, client, user_id=user_id, bank_code=bank)
    message = f"No {BANK_NAMES[bank]} consent is awaiting approval; connect the bank first"
    raise Conflict(message, code="no_consent_awaiting")


def _consents(
    ctx: ServiceContext,
    user_id: uuid.UUID,
    bank: str,
    status: ConsentStatus,
    kind: ConsentKind = ConsentKind.accounts,
) -> list[Consent]:
    with Session(ctx.engine) as session:
        query = select(Consent).where(
            Consent.user_id == user_id,
            Consent.bank_code == bank,
            Consent.kind == kind,
            Consent.status == status,
        )
        return list(session.exec(query))


async def sync_now(
    ctx: ServiceContext, client: Client, *, user_id: uuid.UUID, bank_code: str
) -> WorkflowStarted:
    """Sync one connected bank now (joins a sync already running)."""
    bank = known_bank(bank_code)

    def has_live_consent() -> bool:
        with Session(ctx.engine) as session:
            return live_consent(session, user_id=user_id, bank_code=bank) is not None

    if not await asyncio.to_thread(has_live_consent):
        raise NoLiveConsent(f"{BANK_NAMES[bank]} has no authorized consent; connect it first")
    workflow_id = sync_workflow_id(str(user_id), bank)
    await client.start_workflow(
        SyncWorkflow.run,
        SyncInput(str(user_id), bank),
        id=workflow_id,
        task_queue=ctx.settings.temporal_task_queue,
        static_summary=f"sync {user_id} · {bank}",
        search_attributes=sync_search_attributes(str(user_id), bank),
        id_conflict_policy=ATTACH,
        id_reuse_policy=RERUN,
    )
    return WorkflowStarted(workflow_id=workflow_id)


async def revoke(
    ctx: ServiceContext, client: Client, *, user_id: uuid.UUID, consent_row_id: uuid.UUID
) -> WorkflowStarted:
    """Withdraw one of the user's open consents, at the bank and here (durably)."""

    def owned() -> Consent:
        with Session(ctx.engine) as session:
            query = select(Consent).where(Consent.id == consent_row_id, Consent.user_id == user_id)
            row = session.exec(query).first()
            if row is None:
                raise ConsentNotFound()
            # A withdrawn consent the bank still holds may be asked about again ("I revoked
            # it in my bank's app"): its workflow probes now.
            if row.status not in WITHDRAWABLE:
                raise Conflict(f"Consent is already {row.status.value}", code="consent_not_active")
            return row

    row = await asyncio.to_thread(owned)
    return WorkflowStarted(workflow_id=(await keep_probing(ctx, client, user_id, [row]))[0])


async def keep_probing(
    ctx: ServiceContext, client: Client, user_id: uuid.UUID, rows: list[Consent]
) -> list[str]:
    """Each consent's revoke workflow, started or attached to, and asked to try now: it
    withdraws the consent, then probes until the bank stops answering with the data."""
    started = []
    for row in rows:
        workflow_id = revoke_workflow_id(str(row.id))
        handle = await client.start_workflow(
            RevokeConsentWorkflow.run,
            RevokeInput(str(user_id), str(row.id)),
            id=workflow_id,
            task_queue=ctx.settings.temporal_task_queue,
            id_conflict_policy=ATTACH,
            id_reuse_policy=RERUN,
        )
        if row.status == ConsentStatus.revoke_pending:
            await handle.signal(RevokeSignal.check)
        started.append(workflow_id)
    return started
