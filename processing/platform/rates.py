"""Exchange rates: set by an administrator (`manual`) or fetched from the provider (a JSON
document at `RATES_PROVIDER_URL`, by the worker's schedule), and the rate an order fixes.

A rate older than its pair's `max_age_s` is stale: nothing is priced with it, and a create
that needs it is refused (`503 rate_unavailable`), so no trade ever runs on a stale rate.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import session_scope
from core.errors import Invalid, Unavailable
from models.base import as_utc, utcnow
from models.rates import MANUAL, PROVIDER, ExchangeRate, ExchangeRatePublic, RateUpdate
from models.traders import Currency
from processing.ledger.fx import convert, minor_units

Side = Literal["credit", "debit"]


class RateUnavailable(Unavailable):
    code = "rate_unavailable"


def _known(session: Session, code: str) -> None:
    row = session.get(Currency, code)
    if row is None or not row.is_active:
        raise Invalid(f"Unknown currency {code!r}", code="unknown_currency")


def is_stale(rate: ExchangeRate, now: datetime) -> bool:
    return as_utc(rate.fetched_at) + timedelta(seconds=rate.max_age_s) < now


def public(rate: ExchangeRate, now: datetime | None = None) -> ExchangeRatePublic:
    return ExchangeRatePublic(
        **rate.model_dump(include={"base", "quote", "buy", "sell", "source", "max_age_s"}),
        fetched_at=as_utc(rate.fetched_at),
        stale=is_stale(rate, now or utcnow()),
    )


def listing(session: Session) -> list[ExchangeRatePublic]:
    now = utcnow()
    query = select(ExchangeRate).order_by(col(ExchangeRate.base), col(ExchangeRate.quote))
    return [public(rate, now) for rate in session.exec(query)]


def set_manual(
    session: Session, *, base: str, quote: str, body: RateUpdate, actor_id: uuid.UUID
) -> ExchangeRatePublic:
    """An administrator's rate for the pair (it then stays until changed or removed: the
    provider does not overwrite a manual rate)."""
    if base == quote:
        raise Invalid("A pair needs two different currencies", code="invalid_pair")
    _known(session, base)
    _known(session, quote)
    row = session.get(ExchangeRate, (base, quote))
    if row is None:
        row = ExchangeRate(base=base, quote=quote, buy="", sell="", source=MANUAL, **_now())
    row.buy, row.sell, row.max_age_s = body.buy, body.sell, body.max_age_s
    row.source, row.updated_by, row.fetched_at = MANUAL, actor_id, utcnow()
    session.add(row)
    session.commit()
    return public(row)


def remove(session: Session, *, base: str, quote: str) -> None:
    """Drop the pair's rate (a manual one goes back to the provider's next fetch)."""
    row = session.get(ExchangeRate, (base, quote))
    if row is None:
        raise Invalid(f"No rate for {base}/{quote}", code="unknown_pair")
    session.delete(row)
    session.commit()


def _now() -> dict[str, Any]:
    return {"fetched_at": utcnow(), "max_age_s": 0}


def fresh_price(session: Session, target: str, source: str, side: Side, now: datetime) -> Decimal:
    """Units of `source` per one unit of `target`, from the pair in either direction: `sell`
    when the platform credits a party `target` (it sells it), `buy` when it debits one."""
    row = session.get(ExchangeRate, (target, source))
    if row is not None and not is_stale(row, now):
        return Decimal(row.sell if side == "credit" else row.buy)
    inverse = session.get(ExchangeRate, (source, target))
    if inverse is not None and not is_stale(inverse, now):
        # One `source` costs `buy`/`sell` `target`: the platform selling `target` is buying
        # `source`, so the inverse of the buy price.
        return 1 / Decimal(inverse.buy if side == "credit" else inverse.sell)
    raise RateUnavailable(
        f"No fresh {target}/{source} rate; retry later",
        details={"base": target, "quote": source},
    )


def party_rate(
    session: Session, *, target: str, source: str, side: Side, spread_bps: int, now: datetime
) -> str:
    """The rate an order fixes for a party: the fresh price with the platform's spread
    against the party (fewer units credited, more debited), as a decimal string."""
    price = fresh_price(session, target, source, side, now)
    margin = Decimal(spread_bps) / 10_000
    priced = price * (1 + margin) if side == "credit" else price * (1 - margin)
    return f"{priced.quantize(Decimal('1e-12')).normalize():f}"


def convert_now(
    session: Session,
    amount_minor: int,
    *,
    source: str,
    target: str,
    side: Side,
    spread_bps: int = 0,
) -> tuple[int, str]:
    """`amount_minor` of `source` in minor units of `target` at the fresh rate (spread
    against the party, half-up) and the rate used: for money credited or debited outside an
    order (a USDT top-up at the published rate). Raises `RateUnavailable` when stale."""
    if source == target:
        return amount_minor, "1"
    rate = party_rate(
        session, target=target, source=source, side=side, spread_bps=spread_bps, now=utcnow()
    )
    units = minor_units(session, source), minor_units(session, target)
    return convert(amount_minor, *units, Decimal(rate)), rate


def _parsed(item: Any) -> tuple[str, str, str, str] | None:
    """One provider entry, or None when it is not a usable positive buy ≤ sell."""
    try:
        base, quote = str(item["base"]).upper(), str(item["quote"]).upper()
        buy, sell = Decimal(str(item["buy"])), Decimal(str(item["sell"]))
    except (KeyError, TypeError, InvalidOperation):
        return None
    if not (buy.is_finite() and sell.is_finite()) or buy <= 0 or sell < buy or base == quote:
        return None
    return base, quote, f"{buy:f}", f"{sell:f}"


def store_provider_rates(session: Session, document: Any, max_age_s: int) -> list[str]:
    """Write the provider's rates (pairs of known currencies; never over a manual rate) and
    return the pairs written."""
    items = document.get("rates") if isinstance(document, dict) else None
    written: list[str] = []
    now = utcnow()
    for parsed in map(_parsed, items if isinstance(items, list) else []):
        if parsed is None:
            continue
        base, quote, buy, sell = parsed
        if session.get(Currency, base) is None or session.get(Currency, quote) is None:
            continue
        row = session.get(ExchangeRate, (base, quote))
        if row is not None and row.source == MANUAL:
            continue
        if row is None:
            row = ExchangeRate(
                base=base, quote=quote, buy=buy, sell=sell, source=PROVIDER, **_now()
            )
            row.max_age_s = max_age_s
        row.buy, row.sell, row.fetched_at, row.source = buy, sell, now, PROVIDER
        session.add(row)
        written.append(f"{base}/{quote}")
    return written


async def refresh_from_provider(
    engine: Engine, http: httpx.AsyncClient, url: str, max_age_s: int
) -> list[str]:
    """Fetch the provider's document and store its rates; raises on a provider failure (the
    schedule's next run tries again; the rates already stored stay until they are stale)."""
    response = await http.get(url, timeout=10)
    response.raise_for_status()
    document = response.json()

    def store() -> list[str]:
        with session_scope(engine) as session:
            return store_provider_rates(session, document, max_age_s)

    return await asyncio.to_thread(store)
