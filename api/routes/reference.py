"""Public reference lists for integrators (no credentials; cached; conditional GET)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel

from api.deps import ContextDep
from models.rates import ExchangeRatePublic
from processing.platform.reference import reference

router = APIRouter()
# Caches keep a list but ask again each time (If-None-Match: a 304 without a body), so an
# administrator's change reaches clients as soon as it reaches the API processes.
CACHE_CONTROL = "public, no-cache"


class CurrencyRef(BaseModel):
    code: str
    name: str
    minor_units: int


class NamedRef(BaseModel):
    code: str
    name: str


class OfferRef(BaseModel):
    bank_code: str
    payment_method: str


async def _answer(ctx: ContextDep, kind: str, if_none_match: str | None) -> Response:
    body, etag = await reference(ctx, kind)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


IfNoneMatch = Annotated[str | None, Header()]


@router.get(
    "/currencies",
    response_model=list[CurrencyRef],
    responses={304: {"description": "Not modified"}},
)
async def currencies(ctx: ContextDep, if_none_match: IfNoneMatch = None) -> Response:
    """Currencies pay-ins may use, with their minor units."""
    return await _answer(ctx, "currencies", if_none_match)


@router.get(
    "/rates",
    response_model=list[ExchangeRatePublic],
    responses={304: {"description": "Not modified"}},
)
async def exchange_rates(ctx: ContextDep, if_none_match: IfNoneMatch = None) -> Response:
    """Exchange rates (`base` priced in `quote`), their source, age limit and staleness."""
    return await _answer(ctx, "rates", if_none_match)


@router.get(
    "/banks", response_model=list[NamedRef], responses={304: {"description": "Not modified"}}
)
async def banks(ctx: ContextDep, if_none_match: IfNoneMatch = None) -> Response:
    """Banks requisites may belong to (`bank_code`)."""
    return await _answer(ctx, "banks", if_none_match)


@router.get(
    "/payment-methods",
    response_model=list[NamedRef],
    responses={304: {"description": "Not modified"}},
)
async def payment_methods(ctx: ContextDep, if_none_match: IfNoneMatch = None) -> Response:
    """Payment methods (`payment_method`: card, SBP, …)."""
    return await _answer(ctx, "payment-methods", if_none_match)


@router.get(
    "/bank-payment-methods",
    response_model=list[OfferRef],
    responses={304: {"description": "Not modified"}},
)
async def bank_payment_methods(ctx: ContextDep, if_none_match: IfNoneMatch = None) -> Response:
    """Which bank offers which payment method (a requisite pairs only these)."""
    return await _answer(ctx, "bank-payment-methods", if_none_match)
