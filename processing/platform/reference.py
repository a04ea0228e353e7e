"""Public reference data: currencies, banks and payment methods that are active, which bank
offers which method, and the exchange rates, served with an ETag.

Each process keeps the lists in its own memory and trusts them while the reference version
in the shared cache (Redis, or the process's own without `REDIS_URL`) is unchanged: every
change an administrator makes bumps it (`reference_changed`), so every API process answers
with the change from its very next request."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from sqlmodel import Session, col, select

from core.context import ServiceContext
from models.reference import BankPaymentMethod
from models.traders import Bank, Currency, PaymentMethod
from processing.platform.rates import listing

# How old a copy may get when nothing bumped the version (a change made outside the API).
CACHE_TTL_S = 60
# Rates move: a changed or refreshed rate bumps the version too, and a copy of the list is
# never older than this (its `stale` flags follow the clock).
RATES_TTL_S = 10
TABLES: dict[str, Any] = {"currencies": Currency, "banks": Bank, "payment-methods": PaymentMethod}


def _offers(session: Session) -> list[dict[str, Any]]:
    """Which active bank offers which active method."""
    query = (
        select(BankPaymentMethod)
        .join(Bank, col(Bank.code) == col(BankPaymentMethod.bank_code))
        .join(PaymentMethod, col(PaymentMethod.code) == col(BankPaymentMethod.payment_method))
        .where(col(Bank.is_active), col(PaymentMethod.is_active))
        .order_by(col(BankPaymentMethod.bank_code), col(BankPaymentMethod.payment_method))
    )
    return [row.model_dump() for row in session.exec(query)]


def _rows(ctx: ServiceContext, kind: str) -> list[dict[str, Any]]:
    with Session(ctx.engine) as session:
        if kind == "rates":
            return [rate.model_dump(mode="json") for rate in listing(session)]
        if kind == "bank-payment-methods":
            return _offers(session)
        model = TABLES[kind]
        query = select(model).where(col(model.is_active)).order_by(col(model.code))
        return [row.model_dump(exclude={"is_active"}) for row in session.exec(query)]


async def reference(ctx: ServiceContext, kind: str) -> tuple[str, str]:
    """(JSON body, ETag) of one list."""

    async def load() -> str:
        rows = await asyncio.to_thread(_rows, ctx, kind)
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))

    ttl = RATES_TTL_S if kind == "rates" else CACHE_TTL_S
    body = await ctx.reference_cache.get(kind, ttl, load)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    return body, etag


async def reference_changed(ctx: ServiceContext) -> None:
    """Reference data changed (committed): every process's next read sees it."""
    await ctx.reference_cache.bump()


async def forget_rates(ctx: ServiceContext) -> None:
    """A rate changed: the next read of the public list sees it."""
    await reference_changed(ctx)
