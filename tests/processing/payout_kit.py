"""Pay-out and fraud test building blocks: a pay-out-enabled store with a funded balance,
pay-out traders, a recipient card, fraud rules, and small waits on an order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import httpx
from sqlmodel import Session, col, func, select

from core.context import ServiceContext
from models.ledger import Entry, LedgerAccount
from models.merchants import Merchant, Store
from models.traders import Trader
from models.users import User
from tests.factories import login
from tests.processing.conftest import StoreKit, TraderKit, make_store, make_trader

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# Luhn-valid test card numbers.
CARD = "4111 1111 1111 1111"
OTHER_CARD = "5555555555554444"


def payout_store(ctx: ServiceContext, currency: str, **overrides: Any) -> StoreKit:
    settings = {"payout_enabled": True, "payout_fee_bps": 200, "payout_review_seconds": 0}
    return make_store(ctx, currency, **(settings | overrides))


async def fund_store(
    api: httpx.AsyncClient, admin: dict[str, str], store: StoreKit, amount: str
) -> dict[str, Any]:
    response = await api.post(
        f"/api/admin/stores/{store.store_id}/deposit",
        json={"amount": amount, "currency": store.currency, "reference": uuid.uuid4().hex},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def payout_trader(
    api: httpx.AsyncClient, ctx: ServiceContext, currency: str, **changes: Any
) -> TraderKit:
    kit = await make_trader(api, ctx, currency, balance_minor=0)
    with Session(ctx.engine) as session:
        trader = session.get(Trader, kit.trader_id)
        assert trader is not None
        trader.payout_enabled, trader.payout_reward_bps = True, 100
        trader.sqlmodel_update(changes)
        session.add(trader)
        session.commit()
    return kit


def payout_body(currency: str, amount: str = "1000.00", **extra: Any) -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": currency,
        "merchant_order_id": uuid.uuid4().hex,
        "recipient": {"card_number": CARD},
        **extra,
    }


async def wait_payout(
    api: httpx.AsyncClient, store: StoreKit, order_id: str, status: str, tries: int = 200
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(tries):
        body = (await api.get(f"/api/gateway/payouts/{order_id}", headers=store.headers)).json()
        if body.get("status") == status:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"pay-out {order_id} stayed {body.get('status')}, wanted {status}")


def balance(
    ctx: ServiceContext, owner_id: uuid.UUID | None, kind: str, currency: str
) -> tuple[int, int]:
    """(balance, held) of an account in minor units; (0, 0) when it does not exist yet."""
    with Session(ctx.engine) as session:
        query = select(LedgerAccount).where(
            LedgerAccount.kind == kind, LedgerAccount.currency == currency
        )
        query = query.where(
            LedgerAccount.owner_id == owner_id
            if owner_id is not None
            else col(LedgerAccount.owner_id).is_(None)
        )
        account = session.exec(query).first()
        return (account.balance_minor, account.held_minor) if account else (0, 0)


def ledger_sum(ctx: ServiceContext, currency: str) -> int:
    with Session(ctx.engine) as session:
        total = session.exec(
            select(func.coalesce(func.sum(Entry.amount_minor), 0))
            .join(LedgerAccount, col(LedgerAccount.id) == Entry.account_id)
            .where(LedgerAccount.currency == currency)
        ).one()
        return int(total)


async def merchant_headers(
    api: httpx.AsyncClient, ctx: ServiceContext, store: StoreKit
) -> dict[str, str]:
    """The store owner's login (make_store creates the merchant user)."""
    with Session(ctx.engine) as session:
        row = session.get(Store, store.store_id)
        assert row is not None
        merchant = session.get(Merchant, row.merchant_id)
        assert merchant is not None
        user = session.get(User, merchant.owner_user_id)
        assert user is not None
        email = user.email
    return await login(api, email)


async def create_payout(
    api: httpx.AsyncClient, store: StoreKit, amount: str = "1000.00", **extra: Any
) -> dict[str, Any]:
    response = await api.post(
        "/api/gateway/payouts",
        json=payout_body(store.currency, amount, **extra),
        headers=store.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def take_and_pay(api: httpx.AsyncClient, trader: TraderKit, order_id: str) -> None:
    """The trader takes the pay-out and uploads a proof of paying it."""
    taken = await api.post(f"/api/trader/payouts/{order_id}/take", headers=trader.headers)
    assert taken.status_code == 200, taken.text
    paid = await api.post(
        f"/api/trader/payouts/{order_id}/paid",
        files={"proof": ("proof.png", PNG, "image/png")},
        headers=trader.headers,
    )
    assert paid.status_code == 200, paid.text


async def wait_escalated(api: httpx.AsyncClient, admin: dict[str, str], order_id: str) -> None:
    """Until the order is in the admin's queue of disputes past their SLA."""
    for _ in range(100):
        queue = (await api.get("/api/admin/disputes?escalated=true", headers=admin)).json()
        if any(item["order_id"] == order_id for item in queue):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the dispute on {order_id} was not escalated")


async def create_rule(api: httpx.AsyncClient, admin: dict[str, str], **body: object) -> dict:
    response = await api.post("/api/admin/fraud/rules", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def as_client(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """A request sent as a client does: again after each 503's Retry-After (bounded)."""
    deadline = asyncio.get_running_loop().time() + 90
    while (answer := await send()).status_code == 503:
        assert asyncio.get_running_loop().time() < deadline, answer.text
        await asyncio.sleep(int(answer.headers["Retry-After"]))
    return answer


async def created(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    """An order created as a client creates one: with an Idempotency-Key, and sent again
    after a 503 `order_not_ready` (a workflow slow to answer on a loaded machine, or a
    worker process just started); 201 expected."""
    key = {"Idempotency-Key": body["merchant_order_id"]}
    answer = await as_client(partial(api.post, path, json=body, headers=headers | key))
    assert answer.status_code == 201, answer.text
    body_out: dict[str, Any] = answer.json()
    return body_out
