"""Pay-out services the API calls: create (idempotent, screened and held before it answers),
read, the traders' pool (offers, take, paid with proof), merchant cancel.

As with pay-ins, reads come from the database and actions are updates to the order's
workflow (`payout-{order_id}`); no database connection is held while a workflow is awaited.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy

from contracts.processing import (
    ALREADY_TAKEN,
    CAPACITY_REACHED,
    FRAUD_DENIED,
    INSUFFICIENT_BALANCE,
    NOT_STARTED,
    ActorRequest,
    ActorType,
    OrderKind,
    OrderStatus,
    PayoutInput,
    PayoutPaidRequest,
    PayoutStatus,
    PayoutUpdate,
    TakeRequest,
    payout_workflow_id,
)
from contracts.search_attributes import ORDER_KIND
from core.context import ServiceContext
from core.errors import Conflict, Invalid, NotAllowed
from models.merchants import Store
from models.orders import Order
from models.payouts import PayoutCreate, PayoutOffer, PayoutPublic
from models.platform_settings import PlatformValues
from models.traders import Requisite, RequisiteStatus, Trader
from processing.accounts.merchants import allowed_callback_url
from processing.bridge.watch import watch_if_linked
from processing.errors import FraudDenied, InsufficientBalance, InvalidTransition, OrderNotFound
from processing.ledger.settlement import bps_of
from processing.orders.actions import Repeat, load_order, repeated, respond
from processing.orders.engine import start_bounded
from processing.orders.lifecycle import open_payouts
from processing.orders.payins import (
    Owner,
    existing_order,
    latest_by_merchant_order,
    not_started,
    owned_order,
    request_digest,
    validated_amount,
)
from processing.orders.pricing import fix_rates
from processing.orders.receipts import store_receipt
from processing.platform.settings import effective
from processing.risk.fraud import fingerprint
from processing.views import order_summary, payout_offer, payout_public
from workflows.payout import PayoutWorkflow

PAYOUT = OrderKind.payout


def payout_owner(*, store_id: uuid.UUID | None = None, trader_id: uuid.UUID | None = None) -> Owner:
    return Owner(store_id=store_id, trader_id=trader_id, kind=PAYOUT)


def _digest(body: PayoutCreate, key: str) -> str:
    # The recipient enters the hash as its fingerprint: a bare hash of a card number could
    # be reversed by trying every number.
    masked = body.model_copy(
        update={"recipient": body.recipient.model_copy(update={"card_number": None, "phone": None})}
    )
    recipient = fingerprint(key, body.recipient.kind, body.recipient.number)
    return hashlib.sha256(f"{request_digest(masked)}:{recipient}".encode()).hexdigest()


def find_or_create_payout(
    session: Session, *, store: Store, body: PayoutCreate, key: str, ctx: ServiceContext
) -> tuple[Order, bool]:
    if not store.payout_enabled:
        raise NotAllowed("Pay-outs are disabled for this store", code="payout_disabled")
    amount = validated_amount(session, store, body)
    recipient = body.recipient
    fp_key = ctx.settings.fingerprint_secret
    digest = _digest(body, fp_key)
    for _ in range(2):
        existing = existing_order(session, store, body, key, digest)
        if existing is not None:
            if existing.kind != PAYOUT:
                raise Conflict(
                    "Idempotency key was used with other parameters", code="idempotency_key_reused"
                )
            return existing, False
        number = recipient.number
        order = Order(
            kind=PAYOUT,
            merchant_order_id=body.merchant_order_id,
            customer_id=body.customer_id,
            customer_ip=body.customer_ip,
            callback_url=body.callback_url,
            store_id=store.id,
            merchant_id=store.merchant_id,
            idempotency_key=key,
            request_hash=digest,
            requested_amount_minor=amount,
            amount_minor=amount,
            currency=store.currency,
            merchant_fee_bps=store.payout_fee_bps,
            fee_minor=bps_of(amount, store.payout_fee_bps),
            recipient_kind=recipient.kind.value,
            recipient_encrypted=ctx.secrets.encrypt(number),
            recipient_last4=number[-4:],
            recipient_fingerprint=fingerprint(fp_key, recipient.kind, number),
            recipient_bank_code=recipient.bank_code,
            bank_code=recipient.bank_code,
            payment_deadline_seconds=store.payout_take_seconds,
            trader_deadline_seconds=store.payout_pay_seconds,
            review_seconds=store.payout_review_seconds,
        )
        spread = effective(session, ctx.settings).fx_spread_bps
        fix_rates(session, order, store.settlement_currency, spread, order.created_at)
        session.add(order)
        try:
            session.commit()
            return order, True
        except IntegrityError:
            session.rollback()
    raise Conflict("Concurrent create with the same key", code="idempotency_conflict")


async def start_and_hold(
    client: Client, *, task_queue: str, order: Order, platform: PlatformValues, wait_s: float
) -> None:
    """Update-with-start: the workflow starts (or is found) and answers once held."""
    start = WithStartWorkflowOperation(
        PayoutWorkflow.run,
        PayoutInput(
            str(order.id),
            str(order.store_id),
            str(order.merchant_id),
            list(platform.callback_retry_delays_s),
            platform.dispute_sla_seconds,
            platform.payout_unpaid_action,
        ),
        id=payout_workflow_id(str(order.id)),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=order_summary(order),
        search_attributes=TypedSearchAttributes([SearchAttributePair(ORDER_KIND, PAYOUT.value)]),
    )
    refused = Conflict("The pay-out could not be held", code="hold_failed")
    await start_bounded(
        client, PayoutWorkflow.instructions, start, order=order, wait_s=wait_s, refused=refused
    )


async def create_payout(
    ctx: ServiceContext,
    client: Client,
    *,
    store: Store,
    body: PayoutCreate,
    key: str,
    platform: PlatformValues,
) -> tuple[PayoutPublic, bool]:
    """The held pay-out and whether this call created it; a balance that cannot cover
    amount + fee is 422 `insufficient_balance` (nothing held), a fraud denial 422."""
    await asyncio.to_thread(
        allowed_callback_url, body.callback_url, ctx.settings.callback_allow_private
    )

    def find_or_create() -> tuple[Order, bool]:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return find_or_create_payout(session, store=store, body=body, key=key, ctx=ctx)

    order, created = await asyncio.to_thread(find_or_create)
    if order.status == PayoutStatus.created and order.expires_at is None:
        await start_and_hold(
            client,
            task_queue=ctx.settings.temporal_task_queue,
            order=order,
            platform=platform,
            wait_s=ctx.settings.update_wait_seconds,
        )
    payout = await asyncio.to_thread(read_payout, ctx, order.id, payout_owner(store_id=store.id))
    if payout.failure_reason == NOT_STARTED:
        raise not_started(payout.id)
    refusal = REFUSALS.get(payout.failure_reason or "")
    if payout.status == PayoutStatus.failed and refusal is not None:
        error, message = refusal
        details = {"order_id": str(payout.id), "status": "failed"}
        raise error(message, details=details | {"failure_reason": payout.failure_reason})
    return payout, created


# A create the pay-out's own screening or hold refused: 422 with the failed order named.
REFUSALS: dict[str, tuple[type[Invalid], str]] = {
    INSUFFICIENT_BALANCE: (
        InsufficientBalance,
        "The store's balance does not cover the amount and fee",
    ),
    FRAUD_DENIED: (FraudDenied, "The pay-out was refused by a fraud rule"),
}


def read_payout(
    ctx: ServiceContext, order_id: uuid.UUID, owner: Owner, full_recipient: bool = False
) -> PayoutPublic:
    with Session(ctx.engine) as session:
        order = owned_order(session, order_id, owner)
        return payout_public(session, order, ctx.secrets.decrypt if full_recipient else None)


def find_payout_by_merchant_order(
    session: Session, *, store_id: uuid.UUID, merchant_order_id: str
) -> PayoutPublic:
    order = latest_by_merchant_order(
        session, store_id=store_id, merchant_order_id=merchant_order_id, kind=PAYOUT
    )
    return payout_public(session, order)


# -- traders ---------------------------------------------------------------------------------
def payout_trader(session: Session, trader_id: uuid.UUID) -> Trader:
    trader = session.get(Trader, trader_id)
    assert trader is not None
    if not (trader.is_active and trader.payout_enabled):
        raise NotAllowed("Pay-outs are not enabled for this trader", code="payout_disabled")
    if not trader.is_online:
        raise Conflict("Go online to take pay-outs", code="trader_offline")
    return trader


def trader_currencies(session: Session, trader_id: uuid.UUID) -> list[str]:
    """Currencies the trader works in: those of their approved requisites."""
    rows = session.exec(
        select(Requisite.currency).where(
            Requisite.trader_id == trader_id, Requisite.status == RequisiteStatus.approved
        )
    ).all()
    return sorted(set(rows))


def available(session: Session, *, trader_id: uuid.UUID, limit: int = 50) -> list[PayoutOffer]:
    """Pay-outs waiting for a trader, in the trader's currencies, oldest first."""
    trader = payout_trader(session, trader_id)
    orders = session.exec(
        select(Order)
        .where(
            Order.kind == PAYOUT,
            Order.status == PayoutStatus.created,
            col(Order.expires_at).is_not(None),
            col(Order.currency).in_(trader_currencies(session, trader_id)),
        )
        .order_by(col(Order.created_at))
        .limit(limit)
    ).all()
    return [payout_offer(session, order, trader.payout_reward_bps) for order in orders]


def mine(session: Session, *, trader_id: uuid.UUID) -> list[PayoutPublic]:
    """The trader's pay-outs that still need them (taken, paid under review, disputed)."""
    orders = session.exec(
        select(Order)
        .where(
            Order.kind == PAYOUT,
            Order.trader_id == trader_id,
            col(Order.status).in_(
                [PayoutStatus.assigned, PayoutStatus.paid, PayoutStatus.disputed]
            ),
        )
        .order_by(col(Order.created_at))
    ).all()
    return [payout_public(session, order, party="trader") for order in orders]


def pooled_or_mine(
    session: Session, trader_id: uuid.UUID, order_id: uuid.UUID, taken: bool = False
) -> Order:
    """A pay-out the trader took, or one of the pool in their currencies that no trader
    holds (to take, or that left the pool untaken): what the trader can read. Else not
    found; for a take (`taken`), one another trader holds is 409 `already_taken`."""
    order = session.get(Order, order_id)
    if order is None or order.kind != PAYOUT or order.expires_at is None:
        raise OrderNotFound()
    if order.trader_id == trader_id:
        return order
    if order.currency not in trader_currencies(session, trader_id):
        raise OrderNotFound()
    if order.trader_id is not None:
        raise InvalidTransition("Already taken", code=ALREADY_TAKEN) if taken else OrderNotFound()
    return order


def read_for_trader(
    ctx: ServiceContext, trader_id: uuid.UUID, order_id: uuid.UUID, taken: bool = False
) -> PayoutPublic:
    """A pay-out the trader took (the recipient in full while it is theirs to pay), or one
    in the pool they may take (where a take's 202 says to poll)."""
    with Session(ctx.engine) as session:
        order = pooled_or_mine(session, trader_id, order_id, taken)
        mine_to_pay = order.trader_id == trader_id and order.status == PayoutStatus.assigned
        return payout_public(session, order, ctx.secrets.decrypt if mine_to_pay else None, "trader")


async def take(
    ctx: ServiceContext, client: Client, *, trader_id: uuid.UUID, order_id: uuid.UUID
) -> PayoutPublic:
    """Take a pooled pay-out; the answer shows the recipient in full (the trader pays it).
    Not applied within the wait bound: 202 with the pay-out as it is (still pooled, the
    recipient masked), readable at its Location until the take lands."""

    def check() -> Order:
        with Session(ctx.engine, expire_on_commit=False) as session:
            trader = payout_trader(session, trader_id)
            order = pooled_or_mine(session, trader_id, order_id, taken=True)
            # Checked again, under the trader's row lock, when the take is recorded.
            mine = order.trader_id == trader_id
            if not mine and open_payouts(session, trader_id) >= trader.max_open_payouts:
                raise Conflict(
                    f"You have {trader.max_open_payouts} pay-outs to pay already",
                    code=CAPACITY_REACHED,
                )
            return order

    order = await asyncio.to_thread(check)
    repeat = Repeat(order.id, OrderStatus.assigned, ActorType.trader, str(trader_id))

    def read() -> PayoutPublic:
        # Another trader's take may land first: refused, never "not found".
        return read_for_trader(ctx, trader_id, order_id, taken=True)

    if await repeated(ctx, order, {PayoutStatus.created}, repeat):
        return await asyncio.to_thread(read)
    request = TakeRequest(str(trader_id))
    taken = await respond(ctx, client, order, PayoutUpdate.take, request, read, repeat=repeat)
    # A trader whose bank is linked has the debit read off their statement as evidence.
    await watch_if_linked(ctx, client, trader_id, order.currency)
    return taken


async def mark_paid(
    ctx: ServiceContext,
    client: Client,
    *,
    trader_id: uuid.UUID,
    order_id: uuid.UUID,
    proof: bytes | None,
) -> PayoutPublic:
    """The trader paid the recipient; the proof (PNG, JPEG or PDF) goes to S3 first. A
    pay-out still in the pool (a take not landed yet) is a 409, not a 404."""

    def load() -> Order:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return pooled_or_mine(session, trader_id, order_id)

    order = await asyncio.to_thread(load)
    repeat = Repeat(order.id, OrderStatus.paid, ActorType.trader, str(trader_id))

    def read() -> PayoutPublic:
        return read_payout(ctx, order.id, payout_owner(trader_id=trader_id))

    refusal = None if order.trader_id else "Take the pay-out before marking it paid"
    if await repeated(ctx, order, {PayoutStatus.assigned}, repeat, refusal):
        return await asyncio.to_thread(read)
    if proof is None:
        raise Invalid("A proof of payment is required", code="proof_required")
    proof_id = await store_receipt(
        ctx, order_id=order.id, data=proof, actor=ActorType.trader, actor_id=str(trader_id)
    )
    request = PayoutPaidRequest(str(trader_id), str(proof_id))
    return await respond(ctx, client, order, PayoutUpdate.mark_paid, request, read, repeat=repeat)


async def merchant_cancel(
    ctx: ServiceContext,
    client: Client,
    *,
    store_id: uuid.UUID,
    order_id: uuid.UUID,
    reason: str | None,
) -> PayoutPublic:
    """Cancel a pay-out no trader has taken yet (the held amount returns to the balance)."""
    owner = payout_owner(store_id=store_id)
    order = await load_order(ctx, order_id=order_id, owner=owner)
    actor = ActorRequest(ActorType.merchant.value, str(store_id), reason)
    repeat = Repeat(order_id, OrderStatus.cancelled, ActorType.merchant, str(store_id))

    def read() -> PayoutPublic:
        return read_payout(ctx, order_id, owner)

    return await respond(ctx, client, order, PayoutUpdate.cancel, actor, read, repeat=repeat)
