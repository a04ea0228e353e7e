"""An exchange-rate provider for local runs: `GET /rates` serves the JSON document the
platform's rate schedule fetches (`RATES_PROVIDER_URL`); `PUT /admin/rates/{base}/{quote}`
(behind `X-Emulator-Admin`) changes a pair, so tests and demos can move a rate."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal
from threading import Lock
from typing import Annotated, Self

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, Field, model_validator

router = APIRouter(tags=["rates"])
# Quotes of one USDT, as a market might show them.
DEFAULT_RATES = {
    ("USDT", "RUB"): ("95.10", "95.60"),
    ("USDT", "USD"): ("0.9990", "1.0010"),
    ("USDT", "EUR"): ("0.9200", "0.9240"),
}


class PairQuote(BaseModel):
    buy: Decimal = Field(gt=0, max_digits=24, decimal_places=12)
    sell: Decimal = Field(gt=0, max_digits=24, decimal_places=12)

    @model_validator(mode="after")
    def _spread(self) -> Self:
        if self.sell < self.buy:
            raise ValueError("sell must not be below buy")
        return self


class RateBook:
    def __init__(self) -> None:
        self._lock = Lock()
        self._rates = {pair: (Decimal(b), Decimal(s)) for pair, (b, s) in DEFAULT_RATES.items()}
        self._at = datetime.now(UTC)

    def document(self) -> dict[str, object]:
        with self._lock:
            rates = [
                {"base": base, "quote": quote, "buy": str(buy), "sell": str(sell)}
                for (base, quote), (buy, sell) in sorted(self._rates.items())
            ]
            return {"updated_at": self._at.isoformat(), "rates": rates}

    def put(self, base: str, quote: str, quote_: PairQuote) -> None:
        with self._lock:
            self._rates[(base, quote)] = (quote_.buy, quote_.sell)
            self._at = datetime.now(UTC)


def _book(request: Request) -> RateBook:
    book: RateBook = request.app.state.rates
    return book


@router.get("/rates")
def rates(request: Request) -> dict[str, object]:
    """Every pair's buy and sell price of one `base` in `quote`, as decimal strings."""
    return _book(request).document()


@router.put("/admin/rates/{base}/{quote}", status_code=204)
def set_rate(
    base: str,
    quote: str,
    body: PairQuote,
    request: Request,
    x_emulator_admin: Annotated[str | None, Header()] = None,
) -> None:
    """Change (or add) one pair's prices."""
    expected = request.app.state.admin_token.encode()
    if not secrets.compare_digest((x_emulator_admin or "").encode(), expected):
        raise HTTPException(403, "Admin token required")
    _book(request).put(base.upper(), quote.upper(), body)
