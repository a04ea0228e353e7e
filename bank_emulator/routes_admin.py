"""Test and demo controls of one bank, behind the `X-Emulator-Admin` header."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from bank_emulator.catalog import Merchant
from bank_emulator.config import ApprovalMode
from bank_emulator.data import Transaction
from bank_emulator.security import StateDep, expire_all_tokens, require_admin
from bank_emulator.state import BankState

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


class NewTransaction(BaseModel):
    amount: Decimal = Field(gt=0, decimal_places=2)
    credit_debit_indicator: Literal["Credit", "Debit"] = "Debit"
    status: Literal["Booked", "Pending", "declined", "refunded"] = "Booked"
    information: str = "🛒 Продукты"
    booking_date_time: datetime | None = None
    transaction_id: str | None = None
    merchant_name: str | None = None
    mcc: str | None = None
    merchant_category: str | None = None
    card_masked: str | None = None
    counterparty: str | None = None


class AddTransactions(BaseModel):
    client_id: str
    account_id: str
    transactions: list[NewTransaction] = Field(min_length=1, max_length=10_000)


class StatusChange(BaseModel):
    client_id: str
    status: Literal["Booked", "Pending", "declined", "refunded"]


class FaultsUpdate(BaseModel):
    rate_429: float | None = Field(default=None, ge=0, le=1)
    rate_5xx: float | None = Field(default=None, ge=0, le=1)
    latency_ms: int | None = Field(default=None, ge=0, le=60_000)
    fail_next_429: int | None = Field(default=None, ge=0)
    fail_next_5xx: int | None = Field(default=None, ge=0)
    retry_after_s: int | None = Field(default=None, ge=0)
    status_5xx: int | None = Field(default=None, ge=500, le=599)


class RevokeConsents(BaseModel):
    consent_id: str | None = None
    client_id: str | None = None


class Behaviour(BaseModel):
    approval_mode: ApprovalMode | None = None
    ignore_date_filter: bool | None = None
    zoneless_timestamps: bool | None = None
    agreements_crash: bool | None = None
    friendly: bool | None = None
    user_consent_list: bool | None = None
    token_ttl_seconds: int | None = Field(default=None, ge=1)


class Decision(BaseModel):
    """The user's (account consent) or the bank employee's (agreement consent) answer."""

    request_id: str
    action: Literal["approve", "reject"] = "approve"


class ApprovalModeChange(BaseModel):
    mode: ApprovalMode


class Scale(BaseModel):
    tx_multiplier: int = Field(ge=1, le=500)
    client_id: str | None = None


def _client(state: BankState, client_id: str) -> str:
    if not state.is_known_client(client_id):
        raise HTTPException(404, "Client not found")
    return client_id


def _to_transaction(account_id: str, item: NewTransaction) -> Transaction:
    when = item.booking_date_time or datetime.now(UTC)
    merchant = None
    if item.merchant_name:
        merchant = Merchant(item.merchant_name, item.mcc or "5999", item.merchant_category or "")
    return Transaction(
        transaction_id=item.transaction_id or f"tx-rt-{uuid.uuid4().hex[:20]}",
        account_id=account_id,
        amount=item.amount,
        credit=item.credit_debit_indicator == "Credit",
        status=item.status,
        booked_at=when if when.tzinfo else when.replace(tzinfo=UTC),
        information=item.information,
        merchant=merchant,
        card_masked=item.card_masked,
        counterparty=item.counterparty,
    )


@router.post("/transactions")
async def add_transactions(state: StateDep, body: AddTransactions) -> dict[str, Any]:
    """Add transactions to a client's account at run time; returns their ids."""
    client_id = _client(state, body.client_id)
    if state.account(client_id, body.account_id) is None:
        raise HTTPException(404, "Account not found")
    created = [_to_transaction(body.account_id, item) for item in body.transactions]
    for tx in created:
        state.add_transaction(client_id, tx)
    return {"transaction_ids": [t.transaction_id for t in created]}


@router.patch("/transactions/{transaction_id}")
async def change_transaction(
    state: StateDep, transaction_id: str, body: StatusChange
) -> dict[str, Any]:
    """Change a transaction's status (e.g. Pending → Booked)."""
    tx = state.find_transaction(_client(state, body.client_id), transaction_id)
    if tx is None:
        raise HTTPException(404, "Transaction not found")
    with state.lock:
        tx.status = body.status
    return {"transaction_id": transaction_id, "status": tx.status}


@router.get("/clients/{client_id}")
async def client_summary(state: StateDep, client_id: str) -> dict[str, Any]:
    """A client's accounts and transaction counts, without any consent (for tests)."""
    data = state.client(_client(state, client_id))
    accounts = [
        {
            "account_id": a.account_id,
            "sub_type": a.sub_type,
            "identification": a.identification,
            "transactions": len(state.transactions(client_id, a.account_id)),
        }
        for a in data.accounts
    ]
    agreements = [a.agreement_id for a in data.agreements]
    return {"client_id": client_id, "accounts": accounts, "agreements": agreements}


@router.post("/faults")
async def set_faults(state: StateDep, body: FaultsUpdate) -> dict[str, Any]:
    """Change fault injection; unset fields keep their values."""
    with state.lock:
        state.faults = state.faults.model_copy(update=body.model_dump(exclude_none=True))
        return state.faults.model_dump()


@router.post("/tokens/expire")
async def expire_tokens(state: StateDep) -> dict[str, int]:
    """Make every token issued so far invalid (bank and client tokens)."""
    return {"expired": expire_all_tokens(state)}


@router.post("/consents/revoke")
async def revoke_consents(state: StateDep, body: RevokeConsents) -> dict[str, int]:
    """Revoke one consent, or every consent of a client."""
    if body.consent_id:
        consent = state.consents.get(body.consent_id)
        if consent is None:
            raise HTTPException(404, "Consent not found")
        state.revoke(consent)
        return {"revoked": 1}
    if body.client_id:
        return {"revoked": state.revoke_client(body.client_id)}
    raise HTTPException(422, "consent_id or client_id required")


@router.post("/consents/decide")
async def decide_consent(state: StateDep, body: Decision) -> dict[str, Any]:
    """Approve or reject a pending request on the bank's side, as its own UI would; the team
    is not told the new consent id (it finds out by probing)."""
    consent = state.consents.get(body.request_id)
    if consent is None:
        raise HTTPException(404, "Consent request not found")
    if consent.status != "AwaitingAuthorization":
        raise HTTPException(409, "Consent request already processed")
    state.decide(consent, body.action == "approve")
    return {"request_id": consent.request_id, "status": consent.status}


@router.post("/approval-mode")
async def set_approval_mode(state: StateDep, body: ApprovalModeChange) -> dict[str, Any]:
    """Switch between auto-approved and manually signed consents."""
    return await set_behaviour(state, Behaviour(approval_mode=body.mode))


@router.post("/behaviour")
async def set_behaviour(state: StateDep, body: Behaviour) -> dict[str, Any]:
    """Approval mode, date-filter and timestamp quirks, token lifetime."""
    with state.lock:
        state.config = state.config.model_copy(update=body.model_dump(exclude_none=True))
        return state.config.model_dump(include=set(Behaviour.model_fields))


@router.post("/scale")
async def set_scale(state: StateDep, body: Scale) -> dict[str, Any]:
    """Multiply generated card spending (for "large user" benchmarks); regenerates data."""
    if body.client_id:
        _client(state, body.client_id)
    state.set_multiplier(body.tx_multiplier, body.client_id)
    return body.model_dump()


@router.get("/stats")
async def stats(state: StateDep) -> dict[str, Any]:
    """Request counters (token requests, per-path hits, injected faults)."""
    with state.lock:
        return {"stats": dict(state.stats), "faults": state.faults.model_dump()}


@router.delete("/stats")
async def clear_stats(state: StateDep) -> dict[str, str]:
    """Zero the counters."""
    with state.lock:
        state.stats.clear()
    return {"status": "cleared"}


@router.post("/reset")
async def reset(state: StateDep) -> dict[str, str]:
    """Back to the configured start: data, consents, tokens, faults and counters."""
    state.reset()
    return {"status": "reset"}
