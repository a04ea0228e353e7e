"""Currencies and rates (admin): exchange rates set by hand, and the settlement currency of
stores and traders. Writes are audited like every other admin change."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.deps import AccountManager, ContextDep, CurrentStaff, RateSetter, SessionDep
from models.amounts import CURRENCY_PATTERN
from models.merchants import Store, StorePublic
from models.rates import ExchangeRatePublic, RateUpdate, SettlementCurrencyUpdate
from models.traders import Trader, TraderPublic
from processing.accounts import admin
from processing.platform import rates
from processing.platform.reference import forget_rates

router = APIRouter()
Code = Annotated[str, Path(pattern=CURRENCY_PATTERN)]


@router.get("/rates", response_model=list[ExchangeRatePublic])
def list_rates(session: SessionDep, _: CurrentStaff) -> list[ExchangeRatePublic]:
    """Every pair's latest rate, its source and whether it is stale."""
    return rates.listing(session)


@router.put("/rates/{base}/{quote}", response_model=ExchangeRatePublic)
async def set_rate(
    base: Code,
    quote: Code,
    body: RateUpdate,
    session: SessionDep,
    ctx: ContextDep,
    admin_user: RateSetter,
) -> ExchangeRatePublic:
    """Set the pair's rate by hand (`manual`: the provider does not overwrite it)."""
    changed = rates.set_manual(session, base=base, quote=quote, body=body, actor_id=admin_user.id)
    await forget_rates(ctx)
    return changed


@router.delete("/rates/{base}/{quote}", status_code=204)
async def remove_rate(
    base: Code, quote: Code, session: SessionDep, ctx: ContextDep, _: RateSetter
) -> Response:
    """Remove the pair's rate (the provider's next fetch may bring it back)."""
    rates.remove(session, base=base, quote=quote)
    await forget_rates(ctx)
    return Response(status_code=204)


@router.put("/stores/{store_id}/settlement-currency", response_model=StorePublic)
def set_store_settlement(
    store_id: uuid.UUID, body: SettlementCurrencyUpdate, session: SessionDep, _: AccountManager
) -> Store:
    """The currency the store's balance is kept in (null: each order's own). New orders."""
    return admin.set_settlement_currency(session, Store, store_id, "Store", body.currency)


@router.put("/traders/{trader_id}/settlement-currency", response_model=TraderPublic)
def set_trader_settlement(
    trader_id: uuid.UUID, body: SettlementCurrencyUpdate, session: SessionDep, _: AccountManager
) -> Trader:
    """The currency the trader's balance is kept in (null: each order's own). New orders."""
    return admin.set_settlement_currency(session, Trader, trader_id, "Trader", body.currency)
