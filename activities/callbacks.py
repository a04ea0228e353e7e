"""Merchant callback activities: freeze the event body, send one signed attempt, close out.

The body is frozen at preparation so every attempt (and every re-send) carries the same
bytes and event id; receivers dedupe on the id. A failed delivery never touches the order.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.webhooks import CallbackBlockedError, pin_target, sign
from contracts.processing import (
    DELIVER_CALLBACK,
    ERR_CALLBACK_BLOCKED,
    FINISH_CALLBACK,
    PREPARE_CALLBACK,
    CallbackAttemptInput,
    CallbackAttemptResult,
    CallbackFinished,
    CallbackInput,
    CallbackPrepared,
)
from core.context import ServiceContext
from core.db import session_scope
from models.amounts import to_decimal
from models.base import as_utc, utcnow
from models.merchants import Store
from models.orders import CallbackAttempt, CallbackDelivery, DeliveryStatus, Order
from models.traders import Currency

MAX_RESPONSE_BYTES = 16 * 1024
TIMEOUT = httpx.Timeout(5.0, connect=3.0)


def event_body(event_id: str, event_type: str, order: Order, minor_units: int) -> str:
    def iso(value: object) -> str | None:
        return as_utc(value).isoformat() if value is not None else None  # type: ignore[arg-type]

    data = {
        "order_id": str(order.id),
        "merchant_order_id": order.merchant_order_id,
        "status": order.status.value,
        "failure_reason": order.failure_reason,
        "requested_amount": to_decimal(order.requested_amount_minor, minor_units),
        "amount": to_decimal(order.amount_minor, minor_units),
        "currency": order.currency,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "finished_at": iso(order.finished_at),
    }
    event = {"id": event_id, "type": event_type, "created_at": utcnow().isoformat(), "data": data}
    return json.dumps(event, separators=(",", ":"))


def build_http_client() -> httpx.AsyncClient:
    # Redirects are never followed: a 3xx could point the request at an internal address.
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False)


class CallbackActivities:
    def __init__(self, ctx: ServiceContext, http: httpx.AsyncClient | None = None) -> None:
        self.ctx = ctx
        self.http = http or build_http_client()

    @activity.defn(name=PREPARE_CALLBACK)
    def prepare_callback(self, inp: CallbackInput) -> CallbackPrepared:
        """Create the delivery row with its frozen body, once per event id."""
        with session_scope(self.ctx.engine) as session:
            found = session.exec(
                select(CallbackDelivery).where(CallbackDelivery.event_id == inp.event_id)
            ).first()
            if found is not None:
                return CallbackPrepared(inp.event_id, bool(found.url))
            order = session.get(Order, uuid.UUID(inp.order_id))
            assert order is not None
            store = session.get(Store, order.store_id)
            currency = session.get(Currency, order.currency)
            assert store is not None and currency is not None
            url = order.callback_url or store.callback_url
            delivery = CallbackDelivery(
                event_id=inp.event_id,
                order_id=order.id,
                store_id=store.id,
                event_type=inp.event_type,
                url=url,
                body=event_body(inp.event_id, inp.event_type, order, currency.minor_units),
                status=DeliveryStatus.pending if url else DeliveryStatus.skipped,
            )
            session.add(delivery)
        return CallbackPrepared(inp.event_id, bool(url))

    @activity.defn(name=DELIVER_CALLBACK)
    async def deliver_callback(self, inp: CallbackAttemptInput) -> CallbackAttemptResult:
        """One signed POST; every outcome is recorded as an attempt."""
        delivery, keys = await asyncio.to_thread(self._load, inp.event_id)
        started = time.monotonic()
        status_code, error, blocked = None, None, False
        try:
            status_code = await self._send(delivery, keys)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except CallbackBlockedError as exc:
            error, blocked = f"blocked: {exc}", True
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        latency_ms = int((time.monotonic() - started) * 1000)
        attempt = CallbackAttempt(
            delivery_id=delivery.id,
            attempt_no=inp.attempt_no,
            status_code=status_code,
            latency_ms=latency_ms,
            error=error,
        )
        await asyncio.to_thread(self._record, attempt, error is None)
        if blocked:
            # Recorded above; the destination is refused, so retrying cannot help.
            raise ApplicationError(str(error), type=ERR_CALLBACK_BLOCKED, non_retryable=True)
        return CallbackAttemptResult(
            inp.event_id, inp.attempt_no, error is None, status_code, error
        )

    async def _send(self, delivery: CallbackDelivery, keys: list[str]) -> int:
        assert delivery.url is not None
        target = await pin_target(delivery.url, self.ctx.settings.callback_allow_private)
        body = delivery.body.encode()
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "host": target.host,
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(timestamp),
            # During a secret rotation both secrets sign (space-separated, Standard Webhooks).
            "webhook-signature": " ".join(
                sign(key, delivery.event_id, timestamp, body) for key in keys
            ),
            "user-agent": "JivaPay-Webhooks/1",
        }
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        request = self.http.build_request(
            "POST", target.url, content=body, headers=headers, extensions=extensions
        )
        response = await self.http.send(request, stream=True)
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

    def _load(self, event_id: str) -> tuple[CallbackDelivery, list[str]]:
        with session_scope(self.ctx.engine) as session:
            delivery = session.exec(
                select(CallbackDelivery).where(CallbackDelivery.event_id == event_id)
            ).one()
            store = session.get(Store, delivery.store_id)
            assert store is not None
            return delivery, signing_keys(store, self.ctx.secrets.decrypt)

    def _record(self, attempt: CallbackAttempt, delivered: bool) -> None:
        values: dict[str, object] = {"attempts": CallbackDelivery.attempts + 1}
        if delivered:
            values.update(status=DeliveryStatus.delivered, delivered_at=utcnow())
        try:
            with session_scope(self.ctx.engine) as session:
                session.add(attempt)
                session.flush()
                session.connection().execute(
                    update(CallbackDelivery)
                    .where(CallbackDelivery.id == attempt.delivery_id)  # type: ignore[arg-type]
                    .values(**values)
                )
        except IntegrityError:
            # The same attempt number recorded twice (a replayed activity): keep the first.
            return

    @activity.defn(name=FINISH_CALLBACK)
    def finish_callback(self, inp: CallbackFinished) -> None:
        """After the last rung: a delivery that never succeeded is marked failed."""
        if inp.delivered:
            return
        with session_scope(self.ctx.engine) as session:
            session.connection().execute(
                update(CallbackDelivery)
                .where(
                    CallbackDelivery.event_id == inp.event_id,  # type: ignore[arg-type]
                    CallbackDelivery.status == DeliveryStatus.pending,  # type: ignore[arg-type]
                )
                .values(status=DeliveryStatus.failed)
            )


def signing_keys(store: Store, decrypt: Callable[[str], str]) -> list[str]:
    """The store's current signing secret, then the previous one while its overlap lasts."""
    keys = [decrypt(store.signing_secret_encrypted)]
    expires = store.previous_signing_secret_expires_at
    if store.previous_signing_secret_encrypted and expires and as_utc(expires) > utcnow():
        keys.append(decrypt(store.previous_signing_secret_encrypted))
    return keys
