"""Deposits: a trader's or a store's request to top up (amount, currency, the transaction
hash or a proof file), approved by staff (two above the threshold), credited by one posting.

An admin's direct deposit (`POST /api/admin/traders|stores/{id}/deposit`) at or below the
threshold posts at once, as it always did; above it, it becomes a request the admin has
confirmed, credited once a second, different staff member approves (202 with the request).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.funds import (
    DepositInput,
    DepositStatus,
    FundsKind,
    FundsTransition,
    FundsTransitionResult,
    OwnerKind,
    StaffDecision,
    deposit_workflow_id,
)
from core.context import ServiceContext
from core.db import session_scope
from core.errors import Conflict, Invalid, NotFound, Pending
from models.audit import AuditEntry
from models.base import utcnow
from models.funds import Deposit, DepositCreate, DepositPublic, DepositsPage
from models.merchants import Store
from models.payins import BalancePublic, DepositRequest
from models.platform_settings import PlatformValues
from models.traders import Trader
from processing.funds import engine
from processing.funds.common import (
    STAFF,
    Owner,
    Scope,
    amount_of,
    deposit_public,
    needs_two,
    owned,
    page_of,
    store_proof,
)
from processing.ledger.postings import account_for
from processing.ledger.postings import deposit as post_deposit
from processing.notifications import events as notify
from processing.views import balance_public
from workflows.deposit import DepositWorkflow


def find_or_create(
    session: Session, owner: Owner, row: Deposit
) -> tuple[Deposit, bool]:  # fmt: skip
    """The new request, or the one this owner already made with this reference (the same
    reference with another amount or currency is a 409)."""
    session.add(row)
    try:
        session.flush()
        notify.approval_waiting(session, row)
        session.commit()
        return row, True
    except IntegrityError:
        session.rollback()
    found = session.exec(
        select(Deposit).where(
            Deposit.owner_kind == owner.kind,
            Deposit.owner_id == owner.owner_id,
            Deposit.reference == row.reference,
        )
    ).one()
    if (found.amount_minor, found.currency) != (row.amount_minor, row.currency):
        raise Conflict("This reference was used for another deposit", code="reference_reused")
    return found, False


async def start(ctx: ServiceContext, client: Client, row: Deposit) -> None:
    if row.status not in (DepositStatus.requested, DepositStatus.confirmed):
        return
    requested_by = str(row.requested_by) if row.requested_by else None
    await engine.start(
        client,
        ctx,
        DepositWorkflow.run,
        DepositInput(str(row.id), row.needs_two, requested_by),
        workflow_id=deposit_workflow_id(str(row.id)),
        kind=FundsKind.deposit,
        row=row,
    )


async def request(
    ctx: ServiceContext,
    client: Client,
    *,
    owner: Owner,
    body: DepositCreate,
    proof: bytes | None,
    platform: PlatformValues,
) -> tuple[DepositPublic, bool]:
    """A top-up request, waiting for staff; the same reference again is the same request."""
    if not body.tx_hash and not proof:
        raise Invalid("Send the transaction hash or a proof file", code="proof_required")

    def validate() -> tuple[int, int]:
        with Session(ctx.engine) as session:
            found = amount_of(session, body.currency, body.amount)
            check_owner(session, owner, body.currency)
            return found

    amount, units = await asyncio.to_thread(validate)
    proof_key = await store_proof(ctx, f"deposits/{owner.owner_id}", proof) if proof else None
    row = Deposit(
        owner_kind=owner.kind,
        owner_id=owner.owner_id,
        merchant_id=owner.merchant_id,
        currency=body.currency,
        amount_minor=amount,
        reference=body.reference,
        tx_hash=body.tx_hash or None,
        proof_key=proof_key,
        needs_two=needs_two(amount, units, platform.funds_second_approval_above),
    )

    def save() -> tuple[Deposit, bool]:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return find_or_create(session, owner, row)

    saved, created = await asyncio.to_thread(save)
    await start(ctx, client, saved)
    return await asyncio.to_thread(read, ctx, saved.id, Scope(owner)), created


def read(ctx: ServiceContext, deposit_id: uuid.UUID, scope: Scope) -> DepositPublic:
    with Session(ctx.engine) as session:
        return deposit_public(session, owned(session, Deposit, deposit_id, scope))


def page(
    session: Session, scope: Scope, status: str | None, limit: int, offset: int
) -> DepositsPage:
    rows, following = page_of(
        session, Deposit, scope=scope, status=status, limit=limit, offset=offset
    )
    return DepositsPage(items=[deposit_public(session, r) for r in rows], next_offset=following)


async def decide(
    ctx: ServiceContext, client: Client, *, deposit_id: uuid.UUID, update: str, actor_id: uuid.UUID,
    reason: str | None = None,
) -> DepositPublic:  # fmt: skip
    """A staff member approves or rejects (the workflow applies maker-checker)."""
    await asyncio.to_thread(read, ctx, deposit_id, STAFF)

    def load() -> Deposit:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return owned(session, Deposit, deposit_id, STAFF)

    async def restart() -> None:
        await start(ctx, client, await asyncio.to_thread(load))

    return await engine.act(
        ctx,
        client,
        deposit_workflow_id(str(deposit_id)),
        update,
        StaffDecision(str(actor_id), reason),
        lambda: read(ctx, deposit_id, STAFF),
        restart,
    )


def check_owner(session: Session, owner: Owner, currency: str) -> None:
    """The trader or store exists (404), and a store is credited in its own currency."""
    if owner.kind == OwnerKind.trader:
        if session.get(Trader, owner.owner_id) is None:
            raise NotFound("Trader not found", code="trader_not_found")
        return
    store = session.get(Store, owner.owner_id)
    if store is None:
        raise NotFound("Store not found", code="store_not_found")
    # Its orders' currency, or the one it settles in (its balance is kept there).
    if currency not in (store.currency, store.settlement_currency):
        raise Invalid(f"This store works in {store.currency}", code="currency_not_supported")


def admin_direct(
    session: Session,
    *,
    owner: Owner,
    body: DepositRequest,
    admin_id: uuid.UUID,
    platform: PlatformValues,
    action: str,
) -> BalancePublic | Deposit:
    """At or below the threshold: credited now (the balance). Above: the admin's request,
    confirmed by them, for the caller to start (a second approver credits it)."""
    amount, units = amount_of(session, body.currency, body.amount)
    check_owner(session, owner, body.currency)
    if not needs_two(amount, units, platform.funds_second_approval_above):
        key = f"{owner.owner_id}:{body.reference}"
        credited = post_deposit(
            session, owner.owner_id, body.currency, amount, key, owner.account_kind
        )
        account = account_for(session, owner.account_kind, owner.owner_id, body.currency)
        # The posting is written by statements, not rows the session audits: say it here.
        after = {"amount": body.amount, "currency": body.currency, "reference": body.reference}
        session.add(
            AuditEntry(
                actor_user_id=admin_id,
                action=action,
                target_type=owner.kind.value.title(),
                target_id=str(owner.owner_id),
                after=after | {"credited": credited},
            )
        )
        session.commit()
        session.refresh(account)
        return balance_public(account, units)
    if owner.kind == OwnerKind.store:
        store = session.get(Store, owner.owner_id)
        owner = replace(owner, merchant_id=store.merchant_id if store else None)
    row = Deposit(
        owner_kind=owner.kind,
        owner_id=owner.owner_id,
        merchant_id=owner.merchant_id,
        currency=body.currency,
        amount_minor=amount,
        reference=f"admin:{body.reference}",
        needs_two=True,
        requested_by=admin_id,
    )
    return find_or_create(session, owner, row)[0]


# The admin deposit's answer above the threshold (OpenAPI).
DEPOSIT_ABOVE: dict[int | str, dict[str, Any]] = {
    202: {
        "model": DepositPublic,
        "description": "Above the approval threshold: a deposit request this admin confirmed,"
        " credited once a second, different admin approves it",
    }
}


async def admin_deposit(
    ctx: ServiceContext,
    client: Client,
    session: Session,
    *,
    owner: Owner,
    body: DepositRequest,
    admin_id: uuid.UUID,
    platform: PlatformValues,
    action: str,
) -> BalancePublic:
    """An admin's direct deposit: the balance when credited now; above the threshold 202
    (`Pending`) with the request, confirmed by this admin, waiting for a second approver."""
    done = await asyncio.to_thread(
        admin_direct,
        session,
        owner=owner,
        body=body,
        admin_id=admin_id,
        platform=platform,
        action=action,
    )
    if isinstance(done, BalancePublic):
        return done
    row = done
    await start(ctx, client, row)
    shown = await asyncio.to_thread(read, ctx, row.id, STAFF)
    for _ in range(50):
        if shown.status != DepositStatus.requested:
            break
        await asyncio.sleep(0.1)
        shown = await asyncio.to_thread(read, ctx, row.id, STAFF)
    raise Pending(shown)


def record(engine_: Engine, t: FundsTransition) -> FundsTransitionResult:
    """Mirror one step of a deposit, exactly once; crediting posts once per deposit."""
    with session_scope(engine_) as session:
        row = session.exec(
            select(Deposit).where(col(Deposit.id) == uuid.UUID(t.funds_id)).with_for_update()
        ).one()
        if row.status == t.to_status:  # a retried step
            return FundsTransitionResult(t.funds_id, row.status.value)
        actor = uuid.UUID(t.actor_id) if t.actor_id else None
        if t.to_status == DepositStatus.confirmed:
            row.confirmed_by = actor
        elif t.to_status == DepositStatus.credited:
            row.approved_by = actor
            kind = Owner(row.owner_kind, row.owner_id).account_kind
            key = f"request:{row.id}"
            post_deposit(session, row.owner_id, row.currency, row.amount_minor, key, kind)
        elif t.to_status == DepositStatus.rejected:
            row.reason = t.reason
        row.status = DepositStatus(t.to_status)
        row.updated_at = utcnow()
        return FundsTransitionResult(t.funds_id, row.status.value)
