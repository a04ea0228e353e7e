"""Withdrawals: a trader's or a store's request to take money out (amount, currency, a
TRC-20 address or a card). Amount + fee are held at once on the available balance (the
guarded hold every order uses: more than available is 422 `insufficient_balance` and nothing
is written); staff approve (two above the threshold), pay and the completion posts.

Creates are idempotent per owner and `Idempotency-Key` (the same key with another request is
409 `idempotency_key_reused`). The destination is stored encrypted and masked; workflow
payloads and histories carry only the withdrawal's id.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio.client import Client

from contracts.funds import (
    FundsKind,
    OwnerKind,
    WithdrawalInput,
    WithdrawalStatus,
    withdrawal_workflow_id,
)
from core.context import ServiceContext
from core.errors import Conflict, Invalid
from core.metrics import TRADER_AUTO_OFFLINE
from models.funds import (
    DestinationRevealed,
    Withdrawal,
    WithdrawalCreate,
    WithdrawalPublic,
    WithdrawalsPage,
)
from models.ledger import LedgerAccount
from models.platform_settings import PlatformValues
from processing.errors import InsufficientBalance
from processing.funds import engine
from processing.funds.common import (
    STAFF,
    Owner,
    Scope,
    amount_of,
    needs_two,
    owned,
    page_of,
    withdrawal_public,
)
from processing.funds.destinations import checked
from processing.ledger.collateral import BELOW_MIN, offline_if_below_minimum
from processing.ledger.postings import place_hold
from processing.ledger.settlement import bps_of
from processing.notifications import events as notify
from processing.platform.settings import effective
from processing.risk.fraud import fingerprint
from workflows.withdrawal import WithdrawalWorkflow


def fee_of(amount: int, platform: PlatformValues) -> int:
    return bps_of(amount, platform.withdrawal_fee_bps) + platform.withdrawal_fee_fixed_minor


def digest(ctx: ServiceContext, body: WithdrawalCreate, value: str) -> str:
    """What makes two creates the same request; the destination enters as its keyed
    fingerprint (a bare hash of a card number could be reversed by trying every number)."""
    secret = ctx.settings.fingerprint_secret
    where = fingerprint(secret, body.destination.kind, value)
    text = f"{body.currency}:{body.amount}:{body.destination.kind}:{where}"
    return hashlib.sha256(text.encode()).hexdigest()


def account_of(session: Session, owner: Owner, currency: str) -> LedgerAccount | None:
    """The owner's account; none yet means nothing to withdraw (and none is opened)."""
    return session.exec(
        select(LedgerAccount).where(
            LedgerAccount.kind == owner.account_kind,
            LedgerAccount.owner_id == owner.owner_id,
            LedgerAccount.currency == currency,
        )
    ).first()


def by_key(session: Session, owner: Owner, key: str) -> Withdrawal | None:
    return session.exec(
        select(Withdrawal).where(
            Withdrawal.owner_kind == owner.kind,
            Withdrawal.owner_id == owner.owner_id,
            Withdrawal.idempotency_key == key,
        )
    ).first()


def replayed(found: Withdrawal, request_hash: str) -> Withdrawal:
    if found.request_hash != request_hash:
        raise Conflict(
            "Idempotency key was used with other parameters", code="idempotency_key_reused"
        )
    return found


def find_or_create(
    session: Session,
    ctx: ServiceContext,
    *,
    owner: Owner,
    body: WithdrawalCreate,
    key: str | None,
    platform: PlatformValues,
) -> tuple[Withdrawal, bool]:
    """The held withdrawal and whether this call created it. Row and hold commit together,
    or neither does."""
    amount, units = amount_of(session, body.currency, body.amount)
    value, masked = checked(body.destination.kind, body.destination.value)
    request_hash = digest(ctx, body, value)
    if key is not None and (found := by_key(session, owner, key)) is not None:
        return replayed(found, request_hash), False
    fee = fee_of(amount, platform)
    row = Withdrawal(
        owner_kind=owner.kind,
        owner_id=owner.owner_id,
        merchant_id=owner.merchant_id,
        currency=body.currency,
        amount_minor=amount,
        fee_minor=fee,
        destination_kind=body.destination.kind,
        destination_masked=masked,
        destination_encrypted=ctx.secrets.encrypt(value),
        idempotency_key=key,
        request_hash=request_hash,
        needs_two=needs_two(amount, units, platform.funds_second_approval_above),
    )
    account = account_of(session, owner, body.currency)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # The same key, created by a concurrent call a moment ago.
        session.rollback()
        found = by_key(session, owner, key) if key is not None else None
        if found is None:
            raise
        return replayed(found, request_hash), False
    # The one guarded hold (balance − held ≥ amount + fee, under the row's lock).
    if account is None or not place_hold(
        session, None, account.id, amount + fee, withdrawal_id=row.id
    ):
        session.rollback()
        raise InsufficientBalance(
            "The available balance does not cover amount + fee",
            details={"amount": body.amount, "fee_minor": fee},
        )
    # A trader's hold lowers the working balance: below the minimum, offline in this commit.
    offline = owner.kind == OwnerKind.trader and offline_if_below_minimum(session, owner.owner_id)
    notify.approval_waiting(session, row)
    session.commit()
    if offline:
        TRADER_AUTO_OFFLINE.labels(BELOW_MIN).inc()
    return row, True


async def request(
    ctx: ServiceContext,
    client: Client,
    *,
    owner: Owner,
    body: WithdrawalCreate,
    key: str | None,
    platform: PlatformValues,
) -> tuple[WithdrawalPublic, bool]:
    """Hold amount + fee and start the withdrawal's workflow."""

    def save() -> tuple[Withdrawal, bool]:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return find_or_create(session, ctx, owner=owner, body=body, key=key, platform=platform)

    row, created = await asyncio.to_thread(save)
    await start(ctx, client, row, platform)
    return await asyncio.to_thread(read, ctx, row.id, Scope(owner)), created


async def start(
    ctx: ServiceContext, client: Client, row: Withdrawal, platform: PlatformValues
) -> None:
    """The withdrawal's workflow, once (a request already decided has none to start)."""
    if row.status != WithdrawalStatus.requested:
        return
    inp = WithdrawalInput(
        str(row.id),
        row.needs_two,
        platform.withdrawal_sla_seconds,
        str(row.owner_id) if row.owner_kind == OwnerKind.store else None,
        list(platform.callback_retry_delays_s),
    )
    await engine.start(
        client,
        ctx,
        WithdrawalWorkflow.run,
        inp,
        workflow_id=withdrawal_workflow_id(str(row.id)),
        kind=FundsKind.withdrawal,
        row=row,
    )


def read(ctx: ServiceContext, withdrawal_id: uuid.UUID, scope: Scope) -> WithdrawalPublic:
    with Session(ctx.engine) as session:
        return withdrawal_public(session, owned(session, Withdrawal, withdrawal_id, scope))


def page(
    session: Session, scope: Scope, status: str | None, limit: int, offset: int
) -> WithdrawalsPage:
    rows, following = page_of(
        session, Withdrawal, scope=scope, status=status, limit=limit, offset=offset
    )
    return WithdrawalsPage(
        items=[withdrawal_public(session, r) for r in rows], next_offset=following
    )


async def act(
    ctx: ServiceContext,
    client: Client,
    *,
    withdrawal_id: uuid.UUID,
    scope: Scope,
    update: str,
    request: object,
) -> WithdrawalPublic:
    """Send a staff or owner action; someone else's withdrawal is a 404 before anything."""
    await asyncio.to_thread(read, ctx, withdrawal_id, scope)

    def load() -> tuple[Withdrawal, PlatformValues]:
        with Session(ctx.engine, expire_on_commit=False) as session:
            row = owned(session, Withdrawal, withdrawal_id, scope)
            return row, effective(session, ctx.settings)

    async def restart() -> None:
        await start(ctx, client, *await asyncio.to_thread(load))

    return await engine.act(
        ctx,
        client,
        withdrawal_workflow_id(str(withdrawal_id)),
        update,
        request,
        lambda: read(ctx, withdrawal_id, scope),
        restart,
    )


def reveal(ctx: ServiceContext, withdrawal_id: uuid.UUID) -> DestinationRevealed:
    """The full destination, for the staff member paying an approved withdrawal."""
    with Session(ctx.engine) as session:
        row = owned(session, Withdrawal, withdrawal_id, STAFF)
    if row.status != WithdrawalStatus.approved:
        raise Invalid(
            f"The destination is shown only to pay an approved withdrawal ({row.status})",
            code="not_approved",
        )
    value = ctx.secrets.decrypt(row.destination_encrypted)
    return DestinationRevealed(withdrawal_id=row.id, kind=row.destination_kind, value=value)
