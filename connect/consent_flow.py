"""The consent steps onboarding takes at a bank: request, poll, sign, expire, revoke.

The bank's answer decides the mode (auto-approved or awaiting the user), never the bank's
name. One active consent per bank and kind: a newly authorized one supersedes the rest,
here and at the bank. Bank failures surface as `banks.errors`; the activity layer maps them.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from banks.wire import ConsentStatus as WireConsentStatus
from connect.bank_access import BankAccess
from connect.bank_stores import acting_for
from connect.connection_updates import update_connection
from connect.consents import OPEN, consent_by_id, reusable_consent
from connect.dashboard import refresh_document
from contracts import connect as c
from contracts.connect import ConnectionStatus
from core.db import session_scope
from models.base import utcnow
from models.connect import Consent, ConsentEvent, ConsentKind, ConsentStatus

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


def consent_state(row: Consent) -> c.ConsentState:
    return c.ConsentState(
        consent_row_id=str(row.id),
        bank_code=row.bank_code,
        kind=row.kind.value,
        status=row.status.value,
        auto_approved=row.auto_approved,
        reason=row.status_reason,
    )


async def request(bank: BankAccess, req: c.ConsentRequest) -> c.ConsentState:
    """Reuse the open consent of this bank and kind, or request a new one."""
    existing = await bank.db(reusable_consent, req.user_id, req.bank_code, req.kind)
    if existing is not None:
        return consent_state(existing)
    external = await bank.external_client(req.user_id)
    client = bank.client(req.bank_code)
    with acting_for(req.user_id):
        if req.kind == ConsentKind.accounts:
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
    if row.kind != ConsentKind.accounts:
        # Agreement consents are readable only with the user's own token: the sync tries them.
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
    if row.kind != ConsentKind.accounts:
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


async def revoke(bank: BankAccess, inp: c.RevokeInput) -> c.ConsentState:
    """Withdraw a consent at the bank and here; the bank then needs re-connecting. Revoking
    the accounts consent withdraws the agreement consent of that bank too."""
    row = await bank.db(consent_by_id, inp.consent_row_id)
    rows = [row]
    if row.kind == ConsentKind.accounts:
        rows += await bank.db(
            open_consents, row.user_id, row.bank_code, ConsentKind.product_agreements
        )
    for each in rows:
        await revoke_at_bank(bank, each)
    reason = "Revoked by the user"
    updated = await bank.db(record_consent, row.id, ConsentStatus.revoked, reason)
    for each in rows[1:]:
        await bank.db(record_consent, each.id, ConsentStatus.revoked, reason)
    if row.kind == ConsentKind.accounts:
        update = c.ConnectionUpdate(
            inp.user_id, row.bank_code, ConnectionStatus.not_connected, "revoked", 0
        )
        await bank.db(update_connection, update)
    return consent_state(updated)


async def revoke_at_bank(bank: BankAccess, row: Consent) -> None:
    """Withdraw one consent at its bank (False answers, "already gone", are fine)."""
    client = bank.client(row.bank_code)
    with acting_for(row.user_id):
        if row.kind == ConsentKind.accounts:
            # Approved at the bank and seen by a probe: the bank knows it by request id.
            await client.revoke_account_consent(row.consent_id or row.request_id)
        elif row.consent_id:
            await client.revoke_product_agreement_consent(row.consent_id)


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
    updated = await bank.db(record_consent, row.id, status, note, consent_id, expires)
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


# -- the consent rows: every status change is added to the consent's history --


def create_consent(engine: Engine, consent: Consent) -> Consent:
    with session_scope(engine) as session:
        session.add(consent)
        session.flush()
        session.add(
            ConsentEvent(consent_row_id=consent.id, status=consent.status, note="requested")
        )
        refresh_document(session, consent.user_id)
        return consent


def record_consent(
    engine: Engine,
    consent_row_id: uuid.UUID,
    status: ConsentStatus,
    note: str | None = None,
    consent_id: str | None = None,
    expires_at: datetime | None = None,
) -> Consent:
    """Save a consent's status; a change of status is added to its history."""
    with session_scope(engine) as session:
        row = session.get(Consent, consent_row_id, with_for_update=True)
        if row is None:
            raise LookupError(f"consent {consent_row_id} not found")
        # The dashboard shows a consent's status and expiry only: a poll that finds it still
        # pending leaves the document as it is.
        shown = row.status != status or (expires_at or row.expires_at) != row.expires_at
        if row.status != status:
            session.add(ConsentEvent(consent_row_id=row.id, status=status, note=note))
        row.status, row.updated_at = status, utcnow()
        row.consent_id = consent_id or row.consent_id
        row.expires_at = expires_at or row.expires_at
        row.status_reason = note or row.status_reason
        session.add(row)
        if shown:
            refresh_document(session, row.user_id)
        return row


def revoke_other_consents(engine: Engine, keep: Consent) -> list[str]:
    """Mark older consents of the same bank and kind revoked; returns their bank consent ids."""
    with session_scope(engine) as session:
        query = select(Consent).where(
            Consent.user_id == keep.user_id,
            Consent.bank_code == keep.bank_code,
            Consent.kind == keep.kind,
            Consent.id != keep.id,
            col(Consent.status).in_(OPEN),
        )
        revoked, changed = [], False
        for row in session.exec(query):
            row.status, row.updated_at, changed = ConsentStatus.revoked, utcnow(), True
            session.add(ConsentEvent(consent_row_id=row.id, status=row.status, note="superseded"))
            if row.consent_id:
                revoked.append(row.consent_id)
        if changed:
            refresh_document(session, keep.user_id)
        return revoked


def open_consents(
    engine: Engine, user_id: uuid.UUID, bank_code: str, kind: ConsentKind
) -> list[Consent]:
    """The user's authorized or pending consents of one bank and kind."""
    with Session(engine, expire_on_commit=False) as session:
        query = select(Consent).where(
            Consent.user_id == user_id,
            Consent.bank_code == bank_code,
            Consent.kind == kind,
            col(Consent.status).in_(OPEN),
        )
        return list(session.exec(query))


def mark_consent_required(engine: Engine, user_id: str, bank_code: str, reason: str) -> None:
    """The bank answered CONSENT_REQUIRED to an account data call: the stored consent is no
    longer valid (revoked at the bank), and neither is the agreement consent given with it."""
    with session_scope(engine) as session:
        query = select(Consent).where(
            Consent.user_id == uuid.UUID(user_id),
            Consent.bank_code == bank_code,
            Consent.status == ConsentStatus.authorized,
        )
        changed = False
        for row in session.exec(query):
            row.status, row.status_reason, row.updated_at = ConsentStatus.revoked, reason, utcnow()
            session.add(ConsentEvent(consent_row_id=row.id, status=row.status, note=reason))
            changed = True
        if changed:
            refresh_document(session, uuid.UUID(user_id))
