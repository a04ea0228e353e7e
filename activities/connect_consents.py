"""Connect activities for the bank token and consents: request, poll, sign, expire, revoke."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from temporalio import activity

from activities import connect_db as db
from activities.bank_access import BankAccess, bank_errors, consent_state
from banks.wire import ConsentStatus as WireConsentStatus
from contracts import connect as c
from models.base import utcnow
from models.connect import Consent, ConsentKind, ConsentStatus

AUTO_CONSENT_LIFETIME = timedelta(days=365)

WIRE_STATUS = {
    WireConsentStatus.authorized: ConsentStatus.authorized,
    WireConsentStatus.awaiting_authorization: ConsentStatus.pending,
    WireConsentStatus.rejected: ConsentStatus.rejected,
    WireConsentStatus.revoked: ConsentStatus.revoked,
    WireConsentStatus.expired: ConsentStatus.expired,
    WireConsentStatus.unknown: ConsentStatus.pending,
}


class ConsentActivities:
    def __init__(self, bank: BankAccess) -> None:
        self.bank = bank

    @activity.defn(name=c.ENSURE_TOKEN)
    async def ensure_token(self, bank_code: str) -> str:
        """Make sure a valid bank token is cached; returns its bank, never the token."""
        async with bank_errors("", bank_code, self.bank.ctx.engine):
            await self.bank.client(bank_code).get_bank_token()
        return bank_code

    @activity.defn(name=c.REQUEST_CONSENT)
    async def request_consent(self, req: c.ConsentRequest) -> c.ConsentState:
        """Reuse the active consent of this bank and kind, or request a new one."""
        existing = await self.bank.db(db.active_consent, req.user_id, req.bank_code, req.kind)
        if existing is not None:
            return consent_state(existing)
        external = await asyncio.to_thread(self.bank.external_client, req.user_id)
        client = self.bank.client(req.bank_code)
        async with bank_errors(req.user_id, req.bank_code, self.bank.ctx.engine):
            if req.kind == ConsentKind.accounts:
                result: Any = await client.request_account_consent(external)
                expires = utcnow() + AUTO_CONSENT_LIFETIME if result.consent_id else None
                permissions = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail"]
            else:
                result = await client.request_product_agreement_consent(external)
                expires, permissions = result.valid_until, ["ReadProductAgreements"]
        # The bank's answer decides the mode (auto or manual), never the bank's name.
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
        row = await self.bank.db(db.create_consent, row)
        if row.status == ConsentStatus.authorized:
            await self._supersede(row)
        return consent_state(row)

    @activity.defn(name=c.POLL_CONSENT)
    async def poll_consent(self, state: c.ConsentState) -> c.ConsentState:
        """Ask the bank for a pending consent's status."""
        row = await self.bank.db(db.consent_by_id, state.consent_row_id)
        client = self.bank.client(row.bank_code)
        async with bank_errors(str(row.user_id), row.bank_code, self.bank.ctx.engine):
            if row.kind == ConsentKind.accounts:
                result: Any = await client.get_account_consent(row.consent_id or row.request_id)
                consent_id, expires = result.consent_id, result.expires_at
            else:
                result = await client.get_product_agreement_consent(
                    row.consent_id or row.request_id
                )
                consent_id, expires = result.consent_id, result.valid_until
        # Polling by request id echoes it back; only a real consent id is worth keeping.
        if consent_id and consent_id == row.request_id:
            consent_id = None
        return await self._settle(row, WIRE_STATUS[result.status], consent_id, expires)

    @activity.defn(name=c.SIGN_CONSENT)
    async def sign_consent(self, state: c.ConsentState) -> c.ConsentState:
        """Sandbox only, when the user allowed it: sign the pending request as the user."""
        row = await self.bank.db(db.consent_by_id, state.consent_row_id)
        external = await asyncio.to_thread(self.bank.external_client, str(row.user_id))
        client = self.bank.client(row.bank_code)
        password = self.bank.ctx.settings.bank_client_secret.get_secret_value()
        async with bank_errors(str(row.user_id), row.bank_code, self.bank.ctx.engine):
            if row.kind == ConsentKind.accounts:
                signed = await client.sign_account_consent(external, password, row.request_id)
            else:
                signed = await client.sign_product_agreement_consent(
                    external, password, row.request_id
                )
        return await self._settle(
            row, WIRE_STATUS[signed.status], signed.consent_id, signed.expires_at
        )

    @activity.defn(name=c.EXPIRE_CONSENT)
    async def expire_consent(self, state: c.ConsentState) -> c.ConsentState:
        """The user did not approve in time: the request is given up with a clear reason."""
        reason = "The bank did not approve the consent before the deadline"
        row = await self.bank.db(
            db.record_consent, uuid.UUID(state.consent_row_id), ConsentStatus.expired, reason
        )
        return consent_state(row)

    async def _settle(
        self, row: Consent, status: ConsentStatus, consent_id: str | None, expires: Any
    ) -> c.ConsentState:
        note = (
            None
            if status in (ConsentStatus.authorized, ConsentStatus.pending)
            else (f"The bank reports the consent {status.value}")
        )
        updated = await self.bank.db(db.record_consent, row.id, status, note, consent_id, expires)
        if updated.status == ConsentStatus.authorized:
            await self._supersede(updated)
        return consent_state(updated)

    async def _supersede(self, keep: Consent) -> None:
        """One active consent per bank and kind: older ones are revoked, here and at the bank."""
        stale = await self.bank.db(db.revoke_other_consents, keep)
        if keep.kind != ConsentKind.accounts:
            return
        async with bank_errors(str(keep.user_id), keep.bank_code, self.bank.ctx.engine):
            for consent_id in stale:
                await self.bank.client(keep.bank_code).revoke_account_consent(consent_id)

    @activity.defn(name=c.REVOKE_CONSENT)
    async def revoke_consent(self, inp: c.RevokeInput) -> c.ConsentState:
        """Withdraw a consent at the bank and here; the bank then needs re-connecting."""
        row = await self.bank.db(db.consent_by_id, inp.consent_row_id)
        if row.consent_id and row.kind == ConsentKind.accounts:
            async with bank_errors(inp.user_id, row.bank_code, self.bank.ctx.engine):
                await self.bank.client(row.bank_code).revoke_account_consent(row.consent_id)
        reason = "Revoked by the user"
        updated = await self.bank.db(db.record_consent, row.id, ConsentStatus.revoked, reason)
        if row.kind == ConsentKind.accounts:
            update = c.ConnectionUpdate(inp.user_id, row.bank_code, "not_connected", "revoked", 0)
            await self.bank.db(db.update_connection, update)
        return consent_state(updated)

    @activity.defn(name=c.UPDATE_CONNECTION)
    async def update_connection(self, update: c.ConnectionUpdate) -> None:
        """Mirror a bank's onboarding / sync progress into bank_connections."""
        await self.bank.db(db.update_connection, update)
