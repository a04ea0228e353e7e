"""Processing admin (admin / support): requisites, fees and limits, order history, deposits."""

from __future__ import annotations

import asyncio
import uuid
from typing import TypeVar

from fastapi import APIRouter
from sqlmodel import Session, SQLModel, col, select

from activities.ledger import account_for, deposit
from api.deps import ContextDep, CurrentAdmin, CurrentStaff, SessionDep, TemporalDep
from api.errors import AppError, NotFoundError
from api.payin_ops import balance_public, minor_units, owned_order, payin_public, update_and_read
from api.routes.trader import requisite_public
from contracts.processing import UPDATE_CANCEL, UPDATE_CONFIRM, ActorRequest, ActorType
from models.amounts import to_decimal, to_minor
from models.ledger import AccountKind, Entry, EntryPublic, LedgerAccount, Posting, PostingPublic
from models.merchants import Store, StorePublic
from models.orders import OrderEvent
from models.payins import (
    BalancePublic,
    CancelRequest,
    DepositRequest,
    MatchReport,
    OrderEventPublic,
    PayinPublic,
    StoreFeesUpdate,
)
from models.traders import (
    Requisite,
    RequisiteLimitsUpdate,
    RequisitePublic,
    RequisiteStatus,
    Trader,
    TraderPublic,
    TraderUpdate,
)

router = APIRouter()
T = TypeVar("T", bound=SQLModel)


def get_or_404(session: Session, model: type[T], object_id: uuid.UUID, what: str) -> T:
    row = session.get(model, object_id)
    if row is None:
        raise NotFoundError(f"{what} not found", code=f"{what.lower()}_not_found")
    return row


def save(session: Session, row: T) -> T:
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def patch_row(
    session: Session, model: type[T], object_id: uuid.UUID, what: str, body: SQLModel
) -> T:
    """Apply the fields the caller sent (and only those) to one row."""
    row = get_or_404(session, model, object_id, what)
    row.sqlmodel_update(body.model_dump(exclude_unset=True))
    return save(session, row)


def set_requisite_status(
    session: Session, requisite_id: uuid.UUID, to: RequisiteStatus
) -> Requisite:
    requisite = get_or_404(session, Requisite, requisite_id, "Requisite")
    requisite.status = to
    return save(session, requisite)


@router.get("/requisites", response_model=list[RequisitePublic])
def list_requisites(
    session: SessionDep, ctx: ContextDep, _: CurrentStaff, status: RequisiteStatus | None = None
) -> list[RequisitePublic]:
    """Requisites, optionally by status (e.g. pending approval); numbers masked."""
    query = select(Requisite).order_by(col(Requisite.created_at))
    if status is not None:
        query = query.where(Requisite.status == status)
    return [requisite_public(r) for r in session.exec(query).all()]


@router.post("/requisites/{requisite_id}/approve", response_model=RequisitePublic)
def approve_requisite(
    requisite_id: uuid.UUID, session: SessionDep, ctx: ContextDep, _: CurrentAdmin
) -> RequisitePublic:
    """Let a requisite take orders."""
    return requisite_public(set_requisite_status(session, requisite_id, RequisiteStatus.approved))


@router.post("/requisites/{requisite_id}/block", response_model=RequisitePublic)
def block_requisite(
    requisite_id: uuid.UUID, session: SessionDep, ctx: ContextDep, _: CurrentAdmin
) -> RequisitePublic:
    """Stop a requisite from taking new orders."""
    return requisite_public(set_requisite_status(session, requisite_id, RequisiteStatus.blocked))


@router.patch("/requisites/{requisite_id}/limits", response_model=RequisitePublic)
def set_limits(
    requisite_id: uuid.UUID,
    body: RequisiteLimitsUpdate,
    session: SessionDep,
    ctx: ContextDep,
    _: CurrentAdmin,
) -> RequisitePublic:
    """Change a requisite's static / dynamic limits and priority."""
    requisite = get_or_404(session, Requisite, requisite_id, "Requisite")
    requisite.sqlmodel_update(body.model_dump(exclude_unset=True))
    if requisite.min_amount_minor > requisite.max_amount_minor:
        raise AppError(
            "min_amount_minor exceeds max_amount_minor", code="invalid_limits", status_code=422
        )
    return requisite_public(save(session, requisite))


@router.patch("/traders/{trader_id}", response_model=TraderPublic)
def update_trader(
    trader_id: uuid.UUID, body: TraderUpdate, session: SessionDep, _: CurrentAdmin
) -> Trader:
    """Set a trader's rewards, priority and switches."""
    return patch_row(session, Trader, trader_id, "Trader", body)


@router.patch("/stores/{store_id}/processing", response_model=StorePublic)
def update_store_fees(
    store_id: uuid.UUID, body: StoreFeesUpdate, session: SessionDep, _: CurrentAdmin
) -> Store:
    """Set a store's fees, deadlines and unique-amount bounds."""
    return patch_row(session, Store, store_id, "Store", body)


@router.post("/traders/{trader_id}/deposit", response_model=BalancePublic)
def deposit_to_trader(
    trader_id: uuid.UUID, body: DepositRequest, session: SessionDep, _: CurrentAdmin
) -> BalancePublic:
    """Credit a trader's balance from platform funding (idempotent per reference)."""
    get_or_404(session, Trader, trader_id, "Trader")
    units = minor_units(session, body.currency)
    try:
        amount = to_minor(body.amount, units)
    except ValueError as exc:
        raise AppError(str(exc), code="invalid_amount", status_code=422) from exc
    deposit(session, trader_id, body.currency, amount, f"{trader_id}:{body.reference}")
    session.commit()
    account = account_for(session, AccountKind.trader, trader_id, body.currency)
    session.refresh(account)
    return balance_public(account, units)


@router.get("/orders/{order_id}", response_model=PayinPublic)
def get_order(
    order_id: uuid.UUID, session: SessionDep, ctx: ContextDep, _: CurrentStaff
) -> PayinPublic:
    """Any pay-in (requisite number masked)."""
    return payin_public(session, ctx, owned_order(session, order_id))


@router.get("/orders/{order_id}/timeline", response_model=list[OrderEventPublic])
def order_timeline(order_id: uuid.UUID, session: SessionDep, _: CurrentStaff) -> list[OrderEvent]:
    """Every transition of the order: who, when, from → to, why."""
    owned_order(session, order_id)
    return list(
        session.exec(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(col(OrderEvent.at))
        ).all()
    )


@router.get("/orders/{order_id}/postings", response_model=list[PostingPublic])
def order_postings(
    order_id: uuid.UUID, session: SessionDep, _: CurrentStaff
) -> list[PostingPublic]:
    """Ledger postings of the order, with each leg."""
    order = owned_order(session, order_id)
    units = minor_units(session, order.currency)
    postings = session.exec(select(Posting).where(Posting.order_id == order_id)).all()
    result = []
    for posting in postings:
        rows = session.exec(
            select(Entry, LedgerAccount)
            .join(LedgerAccount, col(LedgerAccount.id) == Entry.account_id)
            .where(Entry.posting_id == posting.id)
        ).all()
        entries = [
            EntryPublic(
                account_id=a.id,
                account_kind=a.kind,
                owner_id=a.owner_id,
                amount=to_decimal(e.amount_minor, units),
            )
            for e, a in rows
        ]
        result.append(PostingPublic(**posting.model_dump(), entries=entries))
    return result


@router.get("/orders/{order_id}/match-report", response_model=MatchReport)
def match_report(order_id: uuid.UUID, session: SessionDep, _: CurrentStaff) -> MatchReport:
    """Why no requisite was matched: a reason code per candidate considered."""
    order = owned_order(session, order_id)
    return MatchReport(
        order_id=order.id,
        status=order.status,
        failure_reason=order.failure_reason,
        rejections=order.match_rejections or [],
    )


@router.post("/orders/{order_id}/confirm", response_model=PayinPublic)
async def admin_confirm(
    order_id: uuid.UUID,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    admin: CurrentAdmin,
) -> PayinPublic:
    """Complete an order (e.g. resolve a dispute in the customer's favour)."""
    # Database work off the event loop: this handler is async for the Temporal call.
    await asyncio.to_thread(owned_order, session, order_id)
    request = ActorRequest(ActorType.admin.value, str(admin.id))
    return await update_and_read(session, ctx, client, order_id, UPDATE_CONFIRM, request)


@router.post("/orders/{order_id}/cancel", response_model=PayinPublic)
async def admin_cancel(
    order_id: uuid.UUID,
    session: SessionDep,
    ctx: ContextDep,
    client: TemporalDep,
    admin: CurrentAdmin,
    body: CancelRequest | None = None,
) -> PayinPublic:
    """Cancel any open order (the trader's hold is released)."""
    await asyncio.to_thread(owned_order, session, order_id)
    request = ActorRequest(ActorType.admin.value, str(admin.id), body.reason if body else None)
    return await update_and_read(session, ctx, client, order_id, UPDATE_CANCEL, request)
