"""Concurrent withdrawals never overdraw: 50 at once against one balance, exactly as many
succeed as amount + fee fit, the rest are 422 `insufficient_balance`; balance, held amount
and holds are exact afterwards."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlmodel import Session, func, select

from core.context import ServiceContext
from models.funds import Withdrawal
from models.ledger import AccountKind
from tests.money.funds_kit import code_of, ledger, pending_holds, withdrawal_body
from tests.processing.conftest import make_trader, new_currency

pytestmark = pytest.mark.usefixtures("worker")
EACH = 1_000 + 10  # 10.00 and its fee (100 bps)
FITS = 17


async def test_fifty_concurrent_withdrawals_never_overdraw(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    currency = new_currency(ctx)
    funded = EACH * FITS + EACH // 2
    trader = await make_trader(api, ctx, currency, requisites=0, balance_minor=funded)
    body = withdrawal_body(currency, "10.00")

    async def withdraw() -> httpx.Response:
        return await api.post("/api/trader/withdrawals", json=body, headers=trader.headers)

    answers = await asyncio.gather(*(withdraw() for _ in range(50)))
    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert len(created) == FITS, [a.text for a in refused if a.status_code != 422][:3]
    assert {(a.status_code, code_of(a)) for a in refused} == {(422, "insufficient_balance")}
    assert ledger(ctx, AccountKind.trader, trader.trader_id, currency) == (funded, EACH * FITS)
    assert pending_holds(ctx, trader.trader_id, currency) == FITS
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(func.count())
            .select_from(Withdrawal)
            .where(Withdrawal.owner_id == trader.trader_id)
        ).one()
    assert rows == FITS
