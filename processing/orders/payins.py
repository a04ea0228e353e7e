"""Pay-in services the API calls: create (idempotent, matched before it answers), read, act.

Reads come from the database (the workflow mirrors every transition there); actions go to
the order's workflow as updates, whose refusals come back as `processing.errors`. No
database connection is held while a workflow is awaited: each read is a short session.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy

from contracts.processing import (
    FRAUD_DENIED,
    NOT_STARTED,
    RETRYABLE_FAILURES,
    OrderKind,
    PayinInput,
    PayinStatus,
    payin_workflow_id,
)
from contracts.search_attributes import MERCHANT_ID, ORDER_KIND, ORDER_STATUS, STORE_ID
from core.context import ServiceContext
from core.errors import Conflict, Invalid, NotAllowed
from models.amounts import to_minor
from models.merchants import Store
from models.orders import Order
from models.payins import PayinCreate, PayinPublic
from models.payouts import PayoutCreate
from models.platform_settings import PlatformValues
from models.traders import Currency, Requisite
from processing.accounts.merchants import allowed_callback_url
from processing.errors import FraudDenied, NoRequisite, OrderNotFound
from processing.orders.engine import start_bounded
from processing.orders.pricing import fix_rates
from processing.platform.reference_rules import (
    BANK,
    CURRENCY,
    PAYMENT_METHOD,
    ReferenceDisabled,
    refuse_disabled,
    require_usable,
)
from processing.views import Party, order_summary, payin_public
from workflows.payin import PayinWorkflow


def _check_reference(session: Session, body: PayinCreate | PayoutCreate) -> None:
    """A new order names no disabled bank or method (orders already made in them go on)."""
    if isinstance(body, PayoutCreate):
        if body.recipient.bank_code:
            require_usable(session, BANK, body.recipient.bank_code, field="bank_code")
        return
    # An unknown method or bank matches no requisite (`no_requisite`, with the reason).
    refuse_disabled(session, PAYMENT_METHOD, body.payment_method)
    refuse_disabled(session, BANK, body.bank_code)


def validated_amount(session: Session, store: Store, body: PayinCreate | PayoutCreate) -> int:
    """The amount of a new order in minor units, its currency and reference codes checked."""
    currency = session.get(Currency, body.currency.upper())
    if currency is None:
        raise Invalid(f"Unknown currency {body.currency!r}", code="unknown_currency")
    if not currency.is_active:
        raise ReferenceDisabled(CURRENCY, currency.code)
    _check_reference(session, body)
    if currency.code != store.currency:
        raise Invalid(f"This store accepts {store.currency} only", code="currency_not_supported")
    try:
        amount = to_minor(body.amount, currency.minor_units)
    except ValueError as exc:
        raise Invalid(str(exc), code="invalid_amount") from exc
    if not store.min_amount_minor <= amount <= store.max_amount_minor:
        raise Invalid("Amount is outside the store's limits", code="amount_out_of_range")
    return amount


# Fields added after orders were first hashed: left out while unset, so a retry of an older
# order still matches its stored hash.
LATER_FIELDS = ("customer_ip",)


def request_digest(body: SQLModel) -> str:
    """What makes two creates "the same request" (a replay may reuse its idempotency key)."""
    data = body.model_dump(mode="json")
    for name in LATER_FIELDS:
        if data.get(name) is None:
            data.pop(name, None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def existing_order(
    session: Session, store: Store, body: PayinCreate | PayoutCreate, key: str, digest: str
) -> Order | None:
    """The order already created under this key; a reused key is a conflict, and so is a
    reused order id unless every order under it found no requisite (a retry may use it)."""
    # One query for both checks: the order under this key and any order with this id.
    rows = session.exec(
        select(Order).where(
            Order.store_id == store.id,
            or_(
                col(Order.idempotency_key) == key,
                col(Order.merchant_order_id) == body.merchant_order_id,
            ),
        )
    ).all()
    existing = next((row for row in rows if row.idempotency_key == key), None)
    if existing is not None:
        if existing.request_hash != digest:
            raise Conflict(
                "Idempotency key was used with other parameters", code="idempotency_key_reused"
            )
        return existing
    # An order that never held money (no requisite, balance short): its id may be used again.
    if any(row.failure_reason not in RETRYABLE_FAILURES for row in rows):
        raise Conflict("merchant_order_id already used", code="duplicate_merchant_order_id")
    return None


def find_or_create_order(
    session: Session, *, store: Store, body: PayinCreate, key: str, spread_bps: int = 0
) -> tuple[Order, bool]:
    """The order for this idempotency key: the existing one (same parameters) or a new one."""
    if not store.payin_enabled:
        raise NotAllowed("Pay-ins are disabled for this store", code="payin_disabled")
    amount = validated_amount(session, store, body)
    digest = request_digest(body)
    for _ in range(2):
        existing = existing_order(session, store, body, key, digest)
        if existing is not None:
            return existing, False
        order = Order(
            **body.model_dump(include={"merchant_order_id", "payment_method", "bank_code"}),
            **body.model_dump(include={"customer_id", "callback_url"}),
            customer_ip=body.customer_ip,
            store_id=store.id,
            merchant_id=store.merchant_id,
            idempotency_key=key,
            request_hash=digest,
            requested_amount_minor=amount,
            amount_minor=amount,
            currency=store.currency,
            payment_deadline_seconds=store.payment_deadline_seconds,
            trader_deadline_seconds=store.trader_deadline_seconds,
        )
        # Before the row is written: a create refused for want of a rate leaves nothing.
        fix_rates(session, order, store.settlement_currency, spread_bps, order.created_at)
        session.add(order)
        try:
            session.commit()
            return order, True
        except IntegrityError:
            # A concurrent retry with the same key won the insert: answer with its order.
            session.rollback()
    raise Conflict("Concurrent create with the same key", code="idempotency_conflict")


def not_started(order_id: uuid.UUID) -> Conflict:
    """A replay of a create whose order the reconciler failed (Temporal was down then)."""
    return Conflict(
        "The order was never started (the platform was unavailable when it was created); "
        "create it again, with a new Idempotency-Key",
        code=NOT_STARTED,
        details={"order_id": str(order_id), "status": "failed", "failure_reason": NOT_STARTED},
    )


async def start_and_match(
    client: Client, *, task_queue: str, order: Order, platform: PlatformValues, wait_s: float
) -> None:
    """Update-with-start: the workflow starts (or is found) and answers once matched."""
    start = WithStartWorkflowOperation(
        PayinWorkflow.run,
        PayinInput(
            str(order.id),
            str(order.store_id),
            str(order.merchant_id),
            list(platform.callback_retry_delays_s),
            platform.dispute_sla_seconds,
        ),
        id=payin_workflow_id(str(order.id)),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=order_summary(order),
        # Set at start, so the workflow's first task upserts nothing.
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(ORDER_KIND, OrderKind.payin.value),
                SearchAttributePair(ORDER_STATUS, PayinStatus.created.value),
                SearchAttributePair(MERCHANT_ID, str(order.merchant_id)),
                SearchAttributePair(STORE_ID, str(order.store_id)),
            ]
        ),
    )
    refused = Conflict("The order could not be matched", code="match_failed")
    await start_bounded(
        client, PayinWorkflow.instructions, start, order=order, wait_s=wait_s, refused=refused
    )


async def create_payin(
    ctx: ServiceContext,
    client: Client,
    *,
    store: Store,
    body: PayinCreate,
    key: str,
    platform: PlatformValues,
) -> tuple[PayinPublic, bool]:
    """The matched pay-in (full requisite number) and whether this call created it."""
    if body.callback_url is not None:  # the check resolves the host: off the event loop
        allow_private = ctx.settings.callback_allow_private
        await asyncio.to_thread(allowed_callback_url, body.callback_url, allow_private)

    def find_or_create() -> tuple[Order, bool]:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return find_or_create_order(
                session, store=store, body=body, key=key, spread_bps=platform.fx_spread_bps
            )

    order, created = await asyncio.to_thread(find_or_create)
    if order.status == PayinStatus.created:
        await start_and_match(
            client,
            task_queue=ctx.settings.temporal_task_queue,
            order=order,
            platform=platform,
            wait_s=ctx.settings.update_wait_seconds,
        )
    payin = await asyncio.to_thread(
        read_payin, ctx, order_id=order.id, owner=Owner(store_id=store.id), full_number=True
    )
    if payin.failure_reason == NOT_STARTED:
        raise not_started(payin.id)
    if payin.status == PayinStatus.failed:
        error = FraudDenied if payin.failure_reason == FRAUD_DENIED else NoRequisite
        raise error(
            "The pay-in was refused by a fraud rule"
            if error is FraudDenied
            else "No requisite is available for this pay-in",
            details={
                "order_id": str(payin.id),
                "status": "failed",
                "failure_reason": payin.failure_reason,
            },
        )
    return payin, created


PAYIN = OrderKind.payin.value


@dataclass(frozen=True)
class Owner:
    """Whose orders a caller may see: a store's, a trader's, or (staff) anyone's; of one
    kind (a pay-in route does not find a pay-out) or, with `kind=None`, of both."""

    store_id: uuid.UUID | None = None
    trader_id: uuid.UUID | None = None
    kind: OrderKind | None = OrderKind.payin


STAFF = Owner()
ANY_ORDER = Owner(kind=None)


def owned_order(
    session: Session, order_id: uuid.UUID, owner: Owner = STAFF, with_requisite: bool = False
) -> Order:
    """The order when the caller owns it; someone else's order is simply not found.

    `with_requisite`: its requisite comes in the same query (into the session, where
    `session.get` finds it without another round trip)."""
    query: Any = select(Order)
    if with_requisite:
        query = select(Order, Requisite).outerjoin(
            Requisite, col(Requisite.id) == Order.requisite_id
        )
    query = query.where(Order.id == order_id)
    if owner.kind is not None:
        query = query.where(Order.kind == owner.kind)
    if owner.store_id is not None:
        query = query.where(Order.store_id == owner.store_id)
    if owner.trader_id is not None:
        query = query.where(Order.trader_id == owner.trader_id)
    row = session.exec(query.execution_options(populate_existing=True)).first()
    if row is None:
        raise OrderNotFound()
    return row[0] if with_requisite else row


def read_payin(
    ctx: ServiceContext, *, order_id: uuid.UUID, owner: Owner = STAFF, full_number: bool = False
) -> PayinPublic:
    """One short read of an owned order, as the API shows it."""
    with Session(ctx.engine) as session:
        order = owned_order(session, order_id, owner, with_requisite=True)
        decrypt = ctx.secrets.decrypt if full_number else None
        party: Party = "trader" if owner.trader_id is not None else "store"
        return payin_public(session, order, decrypt, party)


def latest_by_merchant_order(
    session: Session, *, store_id: uuid.UUID, merchant_order_id: str, kind: OrderKind
) -> Order:
    # The latest attempt: earlier ones under this id can only have never held money.
    order = session.exec(
        select(Order)
        .where(
            Order.store_id == store_id,
            Order.merchant_order_id == merchant_order_id,
            Order.kind == kind,
        )
        .order_by(col(Order.created_at).desc(), col(Order.id).desc())
    ).first()
    if order is None:
        raise OrderNotFound()
    return order


def find_by_merchant_order(
    session: Session, *, store_id: uuid.UUID, merchant_order_id: str
) -> PayinPublic:
    order = latest_by_merchant_order(
        session, store_id=store_id, merchant_order_id=merchant_order_id, kind=OrderKind.payin
    )
    return payin_public(session, order)
