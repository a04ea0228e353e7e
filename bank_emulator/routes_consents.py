"""Account consents and product-agreement consents: request, sign, read, revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from bank_emulator.security import AnyTokenDep, BankTokenDep, ClientTokenDep, StateDep
from bank_emulator.state import BankState, Consent
from bank_emulator.wire import fmt_dt

router = APIRouter(tags=["consents"])

PA_STATUS = {
    "Authorized": "approved",
    "AwaitingAuthorization": "pending",
    "Rejected": "rejected",
    "Revoked": "revoked",
    "Expired": "expired",
}


class AccountConsentRequest(BaseModel):
    client_id: str
    permissions: list[str] = Field(min_length=1)
    reason: str = ""
    requesting_bank: str | None = None
    requesting_bank_name: str | None = None


class ProductConsentRequest(BaseModel):
    client_id: str | None = None
    requesting_bank: str | None = None
    read_product_agreements: bool = True
    open_product_agreements: bool = False
    close_product_agreements: bool = False
    allowed_product_types: list[str] = Field(default_factory=lambda: ["deposit", "card", "loan"])
    reason: str = ""


class SignRequest(BaseModel):
    request_id: str
    action: Literal["approve", "reject"] = "approve"
    signature: str = ""


def _known_client(state: BankState, client_id: str | None) -> str:
    if not client_id or not state.is_known_client(client_id):
        raise HTTPException(404, "Client not found")
    return client_id


def _lookup(state: BankState, any_id: str, kind: str) -> Consent:
    consent = state.consents.get(any_id)
    if consent is None or consent.kind != kind:
        raise HTTPException(404, "Consent not found")
    return consent


def _sign(state: BankState, kind: str, user: str, body: SignRequest) -> Consent:
    consent = _lookup(state, body.request_id, kind)
    if consent.client_id != user:
        raise HTTPException(403, "Consent request belongs to another client")
    if consent.status != "AwaitingAuthorization":
        raise HTTPException(409, "Consent request already processed")
    return state.decide(consent, body.action == "approve")


def _sign_json(state: BankState, consent: Consent, zoneless: bool) -> dict[str, Any]:
    signed = consent.signed_at or datetime.now(UTC)
    return {
        "consent_id": consent.consent_id,
        "status": PA_STATUS[consent.status],
        "granted_to": state.config.team_client_id,
        "permissions": consent.permissions,
        "expires_at": fmt_dt(consent.expires_at, zoneless),
        "signed_at": fmt_dt(signed, zoneless),
    }


@router.post("/account-consents/request")
async def request_account_consent(
    state: StateDep, _team: BankTokenDep, body: AccountConsentRequest
) -> dict[str, Any]:
    """Ask a client for account access; auto-approved or left pending per bank setting."""
    client_id = _known_client(state, body.client_id)
    auto = state.config.approval_mode == "auto"
    consent = state.new_consent("account", client_id, body.permissions, body.reason, auto)
    result: dict[str, Any] = {"request_id": consent.request_id}
    if auto:
        result |= {
            "consent_id": consent.consent_id,
            "status": "approved",
            "message": "Consent approved automatically",
        }
    else:
        result |= {"status": "pending", "message": "Waiting for the client to approve"}
    return result | {"created_at": fmt_dt(consent.created_at), "auto_approved": auto}


@router.post("/account-consents/sign")
async def sign_account_consent(
    state: StateDep, user: ClientTokenDep, body: SignRequest
) -> dict[str, Any]:
    """The logged-in client approves or rejects a pending account consent request."""
    return _sign_json(state, _sign(state, "account", user, body), False)


@router.get("/account-consents/my-consents")
async def my_consents(state: StateDep, user: ClientTokenDep) -> dict[str, Any]:
    """The signed-in client's consents, as the bank's own app lists them to revoke one: the
    one place a consent approved in the bank's UI shows its `consent-…` id (the real bank:
    api/consents.py, get_my_consents). A build without the route answers 404."""
    if not state.config.user_consent_list:
        raise HTTPException(404, "Not Found")
    now = datetime.now(UTC)
    with state.lock:
        mine = {id(c): c for c in state.consents.values() if c.client_id == user}
    granted = [c for c in mine.values() if c.kind == "account" and c.consent_id]
    return {
        "consents": [
            {
                "consent_id": c.consent_id,
                "granted_to": state.config.team_client_id,
                "permissions": c.permissions,
                "status": c.effective_status(now),
                "signed_at": fmt_dt(c.signed_at or c.created_at),
                "expires_at": fmt_dt(c.expires_at),
                "last_accessed": None,
            }
            for c in sorted(granted, key=lambda c: c.created_at, reverse=True)
        ]
    }


def _granted(state: BankState, any_id: str, kind: str) -> Consent:
    """The consent a revoke names. The real bank looks the id up among granted consents only
    (api/consents.py, delete_account_access_consents_consent_id: `Consent.consent_id == id`):
    a request id is 404 and revokes nothing. The friendly switch accepts either id."""
    consent = _lookup(state, any_id, kind)
    if consent.consent_id != any_id and not state.config.friendly:
        raise HTTPException(404, "Consent not found")
    return consent


@router.get("/account-consents/{consent_id}")
async def get_account_consent(
    state: StateDep, _team: BankTokenDep, consent_id: str
) -> dict[str, Any]:
    """A consent by id. By request id the real bank answers AwaitingAuthorization forever,
    even after the user approved (the friendly switch answers the decision instead)."""
    consent = _lookup(state, consent_id, "account")
    now = datetime.now(UTC)
    by_request = consent_id == consent.request_id and not state.config.friendly
    status = "AwaitingAuthorization" if by_request else consent.effective_status(now)
    data = {
        "consentId": consent.request_id if by_request else consent.consent_id or consent.request_id,
        "status": status,
        "creationDateTime": fmt_dt(consent.created_at),
        "statusUpdateDateTime": fmt_dt(consent.updated_at),
        "permissions": consent.permissions,
        "expirationDateTime": fmt_dt(consent.expires_at),
    }
    return {"data": data, "links": {"self": f"/account-consents/{consent_id}"}, "meta": {}}


@router.delete("/account-consents/{consent_id}", status_code=204)
async def revoke_account_consent(state: StateDep, _team: BankTokenDep, consent_id: str) -> Response:
    """Revoke a consent (by its consent id; a request id is 404)."""
    state.revoke(_granted(state, consent_id, "account"))
    return Response(status_code=204)


@router.post("/product-agreement-consents/request")
async def request_product_consent(
    state: StateDep,
    _team: BankTokenDep,
    body: ProductConsentRequest,
    client_id: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Ask a client for access to their product agreements."""
    owner = _known_client(state, client_id or body.client_id)
    auto = state.config.approval_mode == "auto"
    consent = state.new_consent("product", owner, body.allowed_product_types, body.reason, auto)
    consent.options = body.model_dump(exclude={"client_id", "requesting_bank", "reason"})
    return {
        "request_id": consent.request_id,
        "consent_id": consent.consent_id,
        "status": "approved" if auto else "pending",
        "auto_approved": auto,
        "message": "Consent approved automatically" if auto else "Waiting for the client",
        "valid_until": fmt_dt(consent.expires_at, zoneless=True),
    }


@router.post("/product-agreement-consents/sign")
async def sign_product_consent(
    state: StateDep, user: ClientTokenDep, body: SignRequest
) -> dict[str, Any]:
    """Friendly switch only: the real bank has no such route (405); a pending agreement
    consent is approved by a bank employee (`/admin/consents/decide` here)."""
    if not state.config.friendly:
        raise HTTPException(405, "Method Not Allowed")
    return _sign_json(state, _sign(state, "product", user, body), True)


@router.get("/product-agreement-consents/{consent_id}")
async def get_product_consent(
    state: StateDep, token: AnyTokenDep, consent_id: str
) -> dict[str, Any]:
    """A product-agreement consent as a flat snake_case object. The real bank reads it only
    with the client's own token: the team's bank token gets 401."""
    kind, subject = token
    if kind == "bank" and not state.config.friendly:
        raise HTTPException(401, "Insufficient permissions")
    consent = _lookup(state, consent_id, "product")
    if kind == "client" and consent.client_id != subject:
        raise HTTPException(403, "Consent belongs to another client")
    # As with account consents, a request id never shows the approval (the spec's verified
    # facts); the friendly switch answers the decision.
    by_request = consent_id == consent.request_id and not state.config.friendly
    status = "AwaitingAuthorization" if by_request else consent.effective_status(datetime.now(UTC))
    return {
        "consent_id": None if by_request else consent.consent_id,
        "request_id": consent.request_id,
        "client_id": consent.client_id,
        "status": PA_STATUS[status],
        **consent.options,
        "reason": consent.reason,
        "created_at": fmt_dt(consent.created_at, zoneless=True),
        "valid_until": fmt_dt(consent.expires_at, zoneless=True),
    }


@router.delete("/product-agreement-consents/{consent_id}", status_code=204)
async def revoke_product_consent(state: StateDep, _team: BankTokenDep, consent_id: str) -> Response:
    """Revoke a product-agreement consent (by its consent id, as account consents)."""
    state.revoke(_granted(state, consent_id, "product"))
    return Response(status_code=204)
