"""The product catalogue and the client's product agreements."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query

from bank_emulator.catalog import Product, products_for
from bank_emulator.data import Agreement
from bank_emulator.security import BankTokenDep, StateDep
from bank_emulator.state import BankState, Consent
from bank_emulator.wire import agreement_json, consent_required

router = APIRouter(tags=["products"])

PA_CONSENT_URL = "/product-agreement-consents/request"
PaConsentHeader = Annotated[str | None, Header(alias="X-Product-Agreement-Consent-Id")]


def product_json(product: Product) -> dict[str, Any]:
    return {
        "productId": product.product_id,
        "productType": product.product_type,
        "productName": product.name,
        "description": product.description,
        "interestRate": str(product.interest_rate),
        "minAmount": str(product.min_amount),
        "maxAmount": str(product.max_amount),
        "termMonths": str(product.term_months) if product.term_months else None,
    }


@router.get("/products")
async def list_products(
    state: StateDep,
    _team: BankTokenDep,
    product_type: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """The bank's products, optionally of one type (numbers as strings)."""
    products = [
        product_json(p)
        for p in products_for(state.config.code)
        if product_type is None or p.product_type == product_type
    ]
    return {
        "data": {"product": products},
        "links": {"self": "/products"},
        "meta": {"totalPages": 1},
    }


def _pa_consent(state: BankState, consent_id: str | None, client_id: str | None) -> Consent:
    if state.config.agreements_crash:
        # As some real builds do: an unhandled NameError in the bank's handler.
        raise HTTPException(500, "Internal Server Error")
    if not client_id:
        raise HTTPException(400, "client_id required for interbank requests")
    # The request id in the header is resolved to the consent it became once approved on the
    # bank's side: the one way a team sees that approval (a read of the request never shows it).
    consent = state.granted_by_any_id(consent_id, "product")
    if consent is None or consent.client_id != client_id:
        raise consent_required(
            "Valid product agreement consent required (X-Product-Agreement-Consent-Id)",
            PA_CONSENT_URL,
        )
    if not consent.options.get("read_product_agreements", True):
        raise consent_required("Consent does not allow reading agreements", PA_CONSENT_URL)
    return consent


def _visible(state: BankState, consent: Consent) -> list[Agreement]:
    allowed = set(consent.permissions)
    agreements = state.client(consent.client_id).agreements
    return [a for a in agreements if a.product.product_type in allowed]


@router.get("/product-agreements")
async def list_agreements(
    state: StateDep,
    _team: BankTokenDep,
    client_id: Annotated[str | None, Query()] = None,
    consent_id: PaConsentHeader = None,
) -> dict[str, Any]:
    """The client's agreements: floats for amounts, dates without a zone, no rates."""
    consent = _pa_consent(state, consent_id, client_id)
    agreements = [agreement_json(a) for a in _visible(state, consent)]
    return {"data": agreements, "meta": {"total": len(agreements)}}


@router.get("/product-agreements/{agreement_id}")
async def get_agreement(
    state: StateDep,
    _team: BankTokenDep,
    agreement_id: str,
    client_id: Annotated[str | None, Query()] = None,
    consent_id: PaConsentHeader = None,
) -> dict[str, Any]:
    """One agreement with its interest rate and the linked account's balance."""
    consent = _pa_consent(state, consent_id, client_id)
    agreement = next((a for a in _visible(state, consent) if a.agreement_id == agreement_id), None)
    if agreement is None:
        raise HTTPException(404, "Agreement not found")
    account = state.account(consent.client_id, agreement.account_id)
    balance = state.balances(consent.client_id, account)[0] if account else None
    detail = agreement_json(agreement) | {
        "interest_rate": float(agreement.product.interest_rate),
        "account_balance": float(balance) if balance is not None else None,
    }
    return {"data": detail}
