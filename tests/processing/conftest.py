"""Pay-in test building blocks: an isolated currency per test, stores, funded traders, a
callback receiver on 127.0.0.1 that checks signatures.

Matching picks any online trader in the order's currency, so each test gets its own
three-letter currency: tests never take each other's requisites.
"""

from __future__ import annotations

import secrets
import string
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select
from standardwebhooks.webhooks import Webhook

from core.context import ServiceContext
from core.security import generate_api_key, hash_api_key
from models.merchants import Merchant, Store
from models.traders import Currency, Requisite, RequisiteStatus, Trader, number_fingerprint
from models.users import Role
from processing.callbacks.signing import new_signing_secret
from processing.ledger.postings import deposit
from tests.factories import create_user, login


def new_currency(ctx: ServiceContext) -> str:
    with Session(ctx.engine) as session:
        while True:
            code = "Z" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(2))
            if session.get(Currency, code) is None:
                session.add(Currency(code=code, name=f"Test {code}", minor_units=2))
                session.commit()
                return code


@dataclass
class StoreKit:
    store_id: uuid.UUID
    currency: str
    headers: dict[str, str]
    secret: str


def make_store(ctx: ServiceContext, currency: str, **overrides: Any) -> StoreKit:
    owner = create_user(ctx.engine, Role.merchant)
    api_key, secret = generate_api_key(), new_signing_secret()
    with Session(ctx.engine) as session:
        merchant = session.exec(select(Merchant).where(Merchant.owner_user_id == owner.id)).one()
        store = Store(
            name="Test store",
            merchant_id=merchant.id,
            currency=currency,
            api_key_prefix=api_key[:12],
            api_key_hash=hash_api_key(api_key),
            signing_secret_encrypted=ctx.secrets.encrypt(secret),
            **overrides,
        )
        session.add(store)
        session.commit()
        return StoreKit(store.id, currency, {"X-API-Key": api_key}, secret)


@dataclass
class TraderKit:
    trader_id: uuid.UUID
    headers: dict[str, str]
    requisite_ids: list[uuid.UUID] = field(default_factory=list)


async def make_trader(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    currency: str,
    requisites: int = 1,
    balance_minor: int = 100_000_000,
    **limits: Any,
) -> TraderKit:
    user = create_user(ctx.engine, Role.trader)
    headers = await login(api, user.email)
    with Session(ctx.engine) as session:
        trader = Trader(user_id=user.id, is_online=True, payin_reward_bps=100)
        session.add(trader)
        session.flush()
        kit = TraderKit(trader.id, headers)
        for _ in range(requisites):
            number = "2200" + "".join(secrets.choice(string.digits) for _ in range(12))
            requisite = Requisite(
                trader_id=trader.id,
                number_encrypted=ctx.secrets.encrypt(number),
                number_last4=number[-4:],
                number_hash=number_fingerprint(ctx.settings.fernet_key.get_secret_value(), number),
                holder_name="Ivan Petrov",
                bank_code="sber",
                payment_method="card",
                currency=currency,
                status=RequisiteStatus.approved,
                **limits,
            )
            session.add(requisite)
            kit.requisite_ids.append(requisite.id)
        if balance_minor:
            deposit(session, trader.id, currency, balance_minor, f"test:{trader.id}")
        session.commit()
    return kit


def payin_body(currency: str, amount: str = "1500.00", **extra: Any) -> dict[str, Any]:
    return {"amount": amount, "currency": currency, "merchant_order_id": uuid.uuid4().hex, **extra}


async def open_payin(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> tuple[StoreKit, dict[str, Any]]:
    """A new store and trader in a new currency, and a pay-in of the store awaiting payment."""
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    await make_trader(api, ctx, currency, balance_minor=500_000)
    order = await api.post("/api/gateway/payins", json=payin_body(currency), headers=store.headers)
    assert order.status_code < 300, order.text
    return store, order.json()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class CallbackReceiver:
    """A tiny HTTP server: fails the first `failures` requests with 500, then answers 204."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.failures = 0
        self.event = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                receiver.received.append(Received(dict(self.headers.items()), body))
                failing = len(receiver.received) <= receiver.failures
                self.send_response(500 if failing else 204)
                self.end_headers()
                if not failing:
                    receiver.event.set()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        # Closed here, not by the garbage collector: a socket finalized in the middle of an
        # import (its ResourceWarning imports) trips Python 3.11's module-lock bookkeeping.
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    server = CallbackReceiver()
    yield server
    server.close()


def verify_signature(secret: str, received: Received) -> dict[str, Any]:
    """What a merchant does, with the official `standardwebhooks` package and nothing of
    ours: raises WebhookVerificationError unless one of the signatures is the secret's."""
    event: dict[str, Any] = Webhook(secret).verify(received.body, dict(received.headers))
    assert event["id"] == {k.lower(): v for k, v in received.headers.items()}["webhook-id"]
    return event


@pytest.fixture
async def admin_headers(api: httpx.AsyncClient, ctx: ServiceContext) -> dict[str, str]:
    user = create_user(ctx.engine, Role.admin)
    return await login(api, user.email)
