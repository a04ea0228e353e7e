"""Rates and settlement-currency building blocks: set a rate, read balances and postings
by currency straight from the ledger."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlmodel import Session, col, select

from core.context import ServiceContext
from models.ledger import AccountKind, Entry, LedgerAccount, Posting

USDT = "USDT"


async def put_rate(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    base: str,
    quote: str,
    buy: str,
    sell: str,
    max_age_s: int = 3600,
) -> httpx.Response:
    body: dict[str, Any] = {"buy": buy, "sell": sell, "max_age_s": max_age_s}
    return await api.put(f"/api/admin/rates/{base}/{quote}", json=body, headers=headers)


def account(
    ctx: ServiceContext,
    kind: AccountKind,
    owner_id: uuid.UUID | None,
    currency: str,
    counter: str | None = None,
) -> tuple[int, int]:
    """(balance, held) in minor units; (0, 0) for an account not created yet."""
    with Session(ctx.engine) as session:
        query = select(LedgerAccount).where(
            LedgerAccount.kind == kind, LedgerAccount.currency == currency
        )
        query = query.where(
            col(LedgerAccount.owner_id).is_(None)
            if owner_id is None
            else LedgerAccount.owner_id == owner_id
        )
        query = query.where(
            col(LedgerAccount.counter_currency).is_(None)
            if counter is None
            else LedgerAccount.counter_currency == counter
        )
        row = session.exec(query).first()
        return (row.balance_minor, row.held_minor) if row else (0, 0)


def posting_sums(ctx: ServiceContext, order_id: uuid.UUID) -> dict[str, dict[str, int]]:
    """Each posting of the order (by kind): the sum of its entries per currency."""
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(Posting.kind, LedgerAccount.currency, Entry.amount_minor)
            .join(Entry, col(Entry.posting_id) == Posting.id)
            .join(LedgerAccount, col(LedgerAccount.id) == Entry.account_id)
            .where(Posting.order_id == order_id)
        ).all()
    sums: dict[str, dict[str, int]] = {}
    for kind, currency, amount in rows:
        per = sums.setdefault(kind, {})
        per[currency] = per.get(currency, 0) + amount
    return sums
