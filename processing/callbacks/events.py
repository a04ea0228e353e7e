"""Merchant callbacks: the frozen event, one signed delivery attempt, the delivery log.

The body is frozen when the delivery is prepared, so every attempt (and every re-send)
carries the same bytes and event id; receivers dedupe on the id. A failed delivery never
touches the order.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from contracts.processing import ActorType, CallbackInput
from core.db import session_scope
from models.amounts import to_decimal
from models.banking import BankTransaction
from models.base import as_utc, utcnow
from models.merchants import Store
from models.orders import CallbackAttempt, CallbackDelivery, DeliveryStatus, Order
from models.statement import StatementCredit
from processing.callbacks.signing import pin_target, sign
from processing.views import confirmed_by, minor_units, settlement_public

MAX_RESPONSE_BYTES = 16 * 1024
TIMEOUT = httpx.Timeout(5.0, connect=3.0)


def confirmation(session: Session, order: Order) -> dict[str, object]:
    """Who completed a pay-in and, when its trader's bank statement did, the bank evidence
    (bank, transaction id, booking time): the merchant sees how the money was proven."""
    actor = confirmed_by(session, order)
    if actor is None:
        return {}
    found: dict[str, object] = {"confirmed_by": actor.value}
    if actor == ActorType.bank_statement:
        row = session.exec(
            select(StatementCredit, BankTransaction)
            .join(BankTransaction, col(BankTransaction.id) == StatementCredit.transaction_id)
            .where(StatementCredit.order_id == order.id)
        ).first()
        if row is not None:
            credit, tx = row
            found["bank_evidence"] = {
                "bank": tx.bank_code,
                "transaction_id": tx.external_id,
                "booked_at": as_utc(credit.booked_at).isoformat(),
            }
    return found


def event_body(
    event_id: str,
    event_type: str,
    order: Order,
    minor_units: int,
    extra: dict[str, object] | None = None,
) -> str:
    def iso(value: object) -> str | None:
        return as_utc(value).isoformat() if value is not None else None  # type: ignore[arg-type]

    data = {
        "order_id": str(order.id),
        "kind": order.kind.value,
        "merchant_order_id": order.merchant_order_id,
        "status": order.status.value,
        "failure_reason": order.failure_reason,
        "requested_amount": to_decimal(order.requested_amount_minor, minor_units),
        "amount": to_decimal(order.amount_minor, minor_units),
        "currency": order.currency,
        "actual_amount": (
            to_decimal(order.actual_amount_minor, minor_units)
            if order.actual_amount_minor is not None
            else None
        ),
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "finished_at": iso(order.finished_at),
        **(extra or {}),
    }
    event = {"id": event_id, "type": event_type, "created_at": utcnow().isoformat(), "data": data}
    return json.dumps(event, separators=(",", ":"))


def build_http_client() -> httpx.AsyncClient:
    # Redirects are never followed: a 3xx could point the request at an internal address.
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False)


def prepare_delivery(engine: Engine, inp: CallbackInput) -> bool:
    """Create the delivery row with its frozen body, once per event id; True if it has a URL."""
    with session_scope(engine) as session:
        return write_delivery(session, inp.event_id, inp.event_type, uuid.UUID(inp.order_id))


def write_delivery(session: Session, event_id: str, event_type: str, order_id: uuid.UUID) -> bool:
    """The delivery row of an event, in the caller's transaction (once per event id: a retry
    finds it); True if it has a URL. The body is the order as this transaction sees it."""
    found = session.exec(
        select(CallbackDelivery.id, CallbackDelivery.url).where(
            CallbackDelivery.event_id == event_id
        )
    ).first()
    if found is not None:
        return bool(found[1])
    order = session.get(Order, order_id)
    assert order is not None
    store = session.get(Store, order.store_id)
    assert store is not None
    url = order.callback_url or store.callback_url
    extra = confirmation(session, order)
    settlement = settlement_public(session, order)
    if settlement is not None:  # the store settles in another currency: rate and amount
        extra["settlement"] = settlement.model_dump()
    body = event_body(event_id, event_type, order, minor_units(session, order.currency), extra)
    session.add(
        CallbackDelivery(
            event_id=event_id,
            order_id=order.id,
            store_id=store.id,
            event_type=event_type,
            url=url,
            body=body,
            status=DeliveryStatus.pending if url else DeliveryStatus.skipped,
        )
    )
    return bool(url)


@dataclass(frozen=True)
class PreparedDelivery:
    delivery: CallbackDelivery
    keys: list[str]  # signing secrets, decrypted: never logged, never in a payload


def load_delivery(engine: Engine, decrypt: Callable[[str], str], event_id: str) -> PreparedDelivery:
    with Session(engine, expire_on_commit=False) as session:
        delivery = session.exec(
            select(CallbackDelivery).where(CallbackDelivery.event_id == event_id)
        ).one()
        store = session.get(Store, delivery.store_id)
        assert store is not None
        return PreparedDelivery(delivery, signing_keys(store, decrypt))


def signing_keys(store: Store, decrypt: Callable[[str], str]) -> list[str]:
    """The store's current signing secret, then the previous one while its overlap lasts."""
    keys = [decrypt(store.signing_secret_encrypted)]
    expires = store.previous_signing_secret_expires_at
    if store.previous_signing_secret_encrypted and expires and as_utc(expires) > utcnow():
        keys.append(decrypt(store.previous_signing_secret_encrypted))
    return keys


async def send_signed(
    http: httpx.AsyncClient, prepared: PreparedDelivery, allow_private: bool
) -> int:
    """One signed POST to the pinned, SSRF-checked address; the merchant's status code."""
    delivery = prepared.delivery
    assert delivery.url is not None
    target = await pin_target(delivery.url, allow_private)
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "host": target.host,
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(timestamp),
        # During a secret rotation both secrets sign (space-separated, Standard Webhooks).
        "webhook-signature": " ".join(
            sign(key, delivery.event_id, timestamp, body) for key in prepared.keys
        ),
        "user-agent": "JivaPay-Webhooks/1",
    }
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    request = http.build_request(
        "POST", target.url, content=body, headers=headers, extensions=extensions
    )
    response = await http.send(request, stream=True)
    try:
        # Read at most a small prefix: a hostile endpoint cannot stream us gigabytes.
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received >= MAX_RESPONSE_BYTES:
                break
    finally:
        await response.aclose()
    return response.status_code


def record_attempt(engine: Engine, attempt: CallbackAttempt, delivered: bool) -> None:
    values: dict[str, object] = {"attempts": CallbackDelivery.attempts + 1}
    if delivered:
        values.update(status=DeliveryStatus.delivered, delivered_at=utcnow())
    try:
        with session_scope(engine) as session:
            session.add(attempt)
            session.flush()
            session.connection().execute(
                update(CallbackDelivery)
                .where(col(CallbackDelivery.id) == attempt.delivery_id)
                .values(**values)
            )
    except IntegrityError:
        # The same attempt number recorded twice (a replayed activity): keep the first.
        return


def mark_failed(engine: Engine, event_id: str) -> None:
    """After the last rung: a delivery that never succeeded is marked failed."""
    with session_scope(engine) as session:
        session.connection().execute(
            update(CallbackDelivery)
            .where(
                col(CallbackDelivery.event_id) == event_id,
                col(CallbackDelivery.status) == DeliveryStatus.pending,
            )
            .values(status=DeliveryStatus.failed)
        )
