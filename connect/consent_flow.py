"""The consent steps onboarding takes at a bank: request, poll, sign, expire; and seeing an
agreement consent approved on the bank's side. Withdrawing one is `connect.withdrawal`.

The bank's answer decides the mode (auto-approved or awaiting the user), never the bank's
name. One active consent per bank and kind: a newly authorized one supersedes the rest,
here and at the bank. Bank failures surface as `banks.errors`; the activity layer maps them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from banks.wire import ConsentStatus as WireConsentStatus
from connect.bank_access import BankAccess
from connect.bank_stores import acting_for
from connect.consent_rows import (
    consent_state,
    create_consent,
    record_consent,
    revoke_other_consents,
)
from connect.consents import consent_by_id, reusable_consent
from connect.withdrawal import clear_earlier_access
from contracts import connect as c
from models.base import utcnow
from models.connect import Consent, ConsentKind, ConsentStatus

AUTO_CONSENT_LIFETIME = timedelta(days=365)
ACCOUNT_PERMISSIONS = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail"]
AGREEMENT_PERMISSIONS = ["ReadProductAgreements"]

WIRE_STATUS = {
    WireConsentStatus.authorized: ConsentStatus.authorized,
    WireConsentStatus.awaiting_authorization: ConsentStatus.pending,
    WireConsentStatus.rejected: ConsentStatus.rejected,
    WireConsentStatus.revoked: ConsentStatus.revoked,
    WireConsentStatus.expired: ConsentStatus.expired,
    WireConsentStatus.unknown: ConsentStatus.pending,
}


async def request(bank: BankAccess, req: c.ConsentRequest) -> c.ConsentState:
    """Reuse the open consent of this bank and kind, or request a new one."""
    existing = await bank.db(reusable_consent, req.user_id, req.bank_code, req.kind)
    if existing is not None:
        return consent_state(existing)
    external = await bank.external_client(req.user_id)
    client = bank.client(req.bank_code)
    with acting_for(req.user_id):
        if req.kind == ConsentKind.accounts:
            # A consent the bank still holds would count as this request's approval, and a
            # second approval makes the bank fail every data call: none may be left.
            await clear_earlier_access(bank, req.user_id, req.bank_code, external)
            result: Any = await client.request_account_consent(external)
            expires = utcnow() + AUTO_CONSENT_LIFETIME if result.consent_id else None
            permissions = ACCOUNT_PERMISSIONS
        else:
            result = await client.request_product_agreement_consent(external)
            expires, permissions = result.valid_until, AGREEMENT_PERMISSIONS
    status = WIRE_STATUS[result.status] if result.consent_id else ConsentStatus.pending
    row = Consent(
        user_id=uuid.UUID(req.user_id),
        bank_code=req.bank_code,
        kind=ConsentKind(req.kind),
        request_id=result.request_id,
        consent_id=result.consent_id,
        status=status,
        auto_approved=bool(result.auto_approved),
        permissions=permissions,
        expires_at=expires,
    )
    row = await bank.db(create_consent, row)
    if row.status == ConsentStatus.authorized:
        await _supersede(bank, row)
    return consent_state(row)


async def poll(bank: BankAccess, state: c.ConsentState) -> c.ConsentState:
    """Ask the bank whether a pending account consent was decided: its status, then a probe.

    Polled by request id, the real banks answer AwaitingAuthorization forever, even after the
    user approved, and never tell us the new consent id. A cheap data call that the bank
    answers once an active consent of (user, team) exists shows the approval instead; data
    calls then present the request id, which the bank resolves to that consent.
    """
    row = await bank.db(consent_by_id, state.consent_row_id)
    if row.kind != ConsentKind.accounts or row.status != ConsentStatus.pending:
        # Agreement consents are readable only with the user's own token: the sync tries them.
        # One withdrawn while it waited (a disconnect) stays withdrawn: an approval given at
        # the bank afterwards must not bring it back.
        return consent_state(row)
    client = bank.client(row.bank_code)
    with acting_for(row.user_id):
        result = await client.get_account_consent(row.consent_id or row.request_id)
        status, expires = WIRE_STATUS[result.status], result.expires_at
        # Polling by request id echoes it back; only a real consent id is worth keeping.
        consent_id = result.consent_id if result.consent_id != row.request_id else None
        note = None
        if status == ConsentStatus.pending:
            external = await bank.external_client(str(row.user_id))
            if await client.probe_account_access(external, row.request_id):
                status, expires = ConsentStatus.authorized, utcnow() + AUTO_CONSENT_LIFETIME
                note = "Approved at the bank (seen by a data call)"
    return await _settle(bank, row, status, consent_id, expires, note)


async def sign(bank: BankAccess, state: c.ConsentState) -> c.ConsentState:
    """Sandbox only, when the user allowed it: sign the pending account request as the user
    (agreement consents have no sign route at the banks)."""
    row = await bank.db(consent_by_id, state.consent_row_id)
    if row.kind != ConsentKind.accounts or row.status != ConsentStatus.pending:
        return consent_state(row)
    external = await bank.external_client(str(row.user_id))
    client = bank.client(row.bank_code)
    password = bank.ctx.settings.bank_client_secret.get_secret_value()
    with acting_for(row.user_id):
        signed = await client.sign_account_consent(external, password, row.request_id)
    return await _settle(
        bank, row, WIRE_STATUS[signed.status], signed.consent_id, signed.expires_at
    )


async def expire(bank: BankAccess, state: c.ConsentState) -> c.ConsentState:
    """The user did not approve in time: the request is given up with a clear reason."""
    reason = "The bank did not approve the consent before the deadline"
    row_id = uuid.UUID(state.consent_row_id)
    return consent_state(await bank.db(record_consent, row_id, ConsentStatus.expired, reason))


async def _settle(
    bank: BankAccess,
    row: Consent,
    status: ConsentStatus,
    consent_id: str | None,
    expires: Any,
    note: str | None = None,
) -> c.ConsentState:
    if status not in (ConsentStatus.authorized, ConsentStatus.pending):
        note = f"The bank reports the consent {status.value}"
    # Only over the pending row this step read: a disconnect may have withdrawn it meanwhile.
    pending = ConsentStatus.pending
    updated = await bank.db(record_consent, row.id, status, note, consent_id, expires, pending)
    if updated.status == ConsentStatus.authorized:
        await _supersede(bank, updated)
    return consent_state(updated)


async def _supersede(bank: BankAccess, keep: Consent) -> None:
    """One active consent per bank and kind: older ones are revoked, here and at the bank."""
    stale = await bank.db(revoke_other_consents, keep)
    if keep.kind != ConsentKind.accounts:
        return
    with acting_for(keep.user_id):
        for consent_id in stale:
            await bank.client(keep.bank_code).revoke_account_consent(consent_id)


async def see_agreement_approval(bank: BankAccess, row: Consent) -> Consent:
    """A pending agreement consent approved on the bank's side (a bank employee's action):
    no read of the request shows it (the team's token is refused, and by its request id it
    stays pending), so, as the account probe does, a data call presenting the request id
    does. Returns the row as it is now."""
    if row.kind != ConsentKind.product_agreements or row.status != ConsentStatus.pending:
        return row
    external = await bank.external_client(str(row.user_id))
    with acting_for(row.user_id):
        client = bank.client(row.bank_code)
        approved = await client.probe_product_agreement_access(external, row.request_id)
    if not approved:
        return row
    note = "Approved at the bank (seen by a data call)"
    authorized, pending = ConsentStatus.authorized, ConsentStatus.pending
    return await bank.db(record_consent, row.id, authorized, note, None, None, pending)
