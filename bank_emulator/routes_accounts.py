"""Accounts, balances, transactions and cards, each behind an account consent."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, HTTPException, Query

from bank_emulator.data import Account, Transaction, anchor_datetime
from bank_emulator.security import BankTokenDep, StateDep
from bank_emulator.state import BankState, Consent
from bank_emulator.wire import (
    account_json,
    balance_json,
    card_json,
    consent_required,
    parse_dt,
    transaction_json,
)

router = APIRouter(tags=["accounts"])

ClientIdQuery = Annotated[str | None, Query()]
ConsentHeader = Annotated[str | None, Header(alias="X-Consent-Id")]


def _consent(
    state: BankState, consent_id: str | None, client_id: str | None, permission: str
) -> Consent:
    """The live consent that covers this client and permission, else 403 CONSENT_REQUIRED.

    As the real bank does, a request naming the client finds the client's active consent for
    the requesting team even without `X-Consent-Id` (or with a request id in it): that is how
    a team learns that a user approved a request in the bank's own UI.
    """
    consent = state.active_consent(consent_id, "account")
    if consent is None and client_id is not None:
        consent = state.active_consent_of(client_id, "account")
    if consent is None:
        raise consent_required("Valid account consent required (X-Consent-Id)")
    # The real bank finds the consent by (client, team) with `scalar_one_or_none()`
    # (services/consent_service.py, ConsentService.check_consent), whatever X-Consent-Id
    # says: two active consents raise there, a 500 until one is revoked.
    doubled = len(state.active_consents_of(consent.client_id, "account")) > 1
    if doubled and not state.config.friendly:
        raise HTTPException(500, "Internal Server Error")
    if client_id is not None and consent.client_id != client_id:
        raise consent_required(f"Consent does not belong to client {client_id}")
    if permission not in consent.permissions:
        raise consent_required(f"Consent lacks permission {permission}")
    return consent


def _own_account(state: BankState, consent: Consent, account_id: str) -> Account:
    account = state.account(consent.client_id, account_id)
    if account is None:
        raise HTTPException(404, "Account not found")
    return account


def _required_client(client_id: ClientIdQuery = None) -> str:
    if not client_id:
        raise HTTPException(400, "client_id required for interbank requests")
    return client_id


RequiredClient = Annotated[str, Depends(_required_client)]


@router.get("/accounts")
async def list_accounts(
    state: StateDep,
    _team: BankTokenDep,
    client_id: RequiredClient,
    consent_id: ConsentHeader = None,
) -> dict[str, Any]:
    """The client's accounts (needs ReadAccountsDetail)."""
    consent = _consent(state, consent_id, client_id, "ReadAccountsDetail")
    accounts = [account_json(a) for a in state.client(consent.client_id).accounts]
    return {
        "data": {"account": accounts},
        "links": {"self": "/accounts"},
        "meta": {"totalPages": 1},
    }


@router.get("/accounts/{account_id}")
async def get_account(
    state: StateDep,
    _team: BankTokenDep,
    account_id: str,
    client_id: ClientIdQuery = None,
    consent_id: ConsentHeader = None,
) -> dict[str, Any]:
    """One account of the client."""
    consent = _consent(state, consent_id, client_id, "ReadAccountsDetail")
    account = _own_account(state, consent, account_id)
    return {
        "data": {"account": [account_json(account)]},
        "links": {"self": f"/accounts/{account_id}"},
        "meta": {},
    }


@router.get("/accounts/{account_id}/balances")
async def get_balances(
    state: StateDep,
    _team: BankTokenDep,
    account_id: str,
    client_id: ClientIdQuery = None,
    consent_id: ConsentHeader = None,
) -> dict[str, Any]:
    """Available and booked balances (a Loan's positive balance is its outstanding debt)."""
    consent = _consent(state, consent_id, client_id, "ReadBalances")
    account = _own_account(state, consent, account_id)
    booked, available = state.balances(consent.client_id, account)
    at, zoneless = anchor_datetime(state.config.anchor_date), state.config.zoneless_timestamps
    if account.sub_type == "CreditCard":
        # Used limit shows as a negative booked balance; available is what can still be spent.
        limit = account.credit_limit or 0
        items = [("InterimAvailable", limit - available), ("InterimBooked", -booked)]
    else:
        items = [("InterimAvailable", available), ("InterimBooked", booked)]
    balances = [balance_json(account, kind, value, at, zoneless) for kind, value in items]
    return {
        "data": {"balance": balances},
        "links": {"self": f"/accounts/{account_id}/balances"},
        "meta": {},
    }


def _window(items: list[Transaction], start: str | None, end: str | None) -> list[Transaction]:
    try:
        low = parse_dt(start) if start else None
        high = parse_dt(end) if end else None
    except ValueError as exc:
        raise HTTPException(422, "Invalid booking date-time filter") from exc
    return [t for t in items if _inside(t.booked_at, low, high)]


def _inside(value: datetime, low: datetime | None, high: datetime | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


@router.get("/accounts/{account_id}/transactions")
async def get_transactions(
    state: StateDep,
    _team: BankTokenDep,
    account_id: str,
    client_id: ClientIdQuery = None,
    consent_id: ConsentHeader = None,
    from_booking_date_time: Annotated[str | None, Query()] = None,
    to_booking_date_time: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """Transactions newest first, paged; some bank builds ignore the date filter."""
    consent = _consent(state, consent_id, client_id, "ReadTransactionsDetail")
    account = _own_account(state, consent, account_id)
    items = state.transactions(consent.client_id, account.account_id)
    if not state.config.ignore_date_filter:
        items = _window(items, from_booking_date_time, to_booking_date_time)
    pages = max(1, math.ceil(len(items) / limit))
    chunk = items[(page - 1) * limit : page * limit]
    zoneless = state.config.zoneless_timestamps
    query = {
        "from_booking_date_time": from_booking_date_time,
        "to_booking_date_time": to_booking_date_time,
        "limit": limit,
    }
    kept = {k: v for k, v in query.items() if v is not None}

    def link(number: int) -> str:
        return f"/accounts/{account_id}/transactions?" + urlencode({**kept, "page": number})

    links = {"self": link(page)}
    if page < pages:
        links["next"] = link(page + 1)
    if page > 1:
        links["prev"] = link(page - 1)
    meta = {"totalPages": pages, "totalRecords": len(items), "currentPage": page, "pageSize": limit}
    data = [transaction_json(t, zoneless) for t in chunk]
    return {"data": {"transaction": data}, "links": links, "meta": meta}


@router.get("/cards")
async def list_cards(
    state: StateDep,
    _team: BankTokenDep,
    client_id: RequiredClient,
    consent_id: ConsentHeader = None,
) -> dict[str, Any]:
    """The client's cards, numbers masked (needs ReadCards)."""
    consent = _consent(state, consent_id, client_id, "ReadCards")
    data = state.client(consent.client_id)
    accounts = {a.account_id: a for a in data.accounts}
    cards = [card_json(c, accounts.get(c.account_id)) for c in data.cards]
    return {"data": {"cards": cards, "total": len(cards)}}
