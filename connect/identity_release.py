"""Freeing a sandbox identity everywhere: the holder's consents are revoked at the banks
first (the bank would otherwise show the next holder an approval they never gave), then
what we stored from the identity is deleted and the identity returns to the pool."""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlmodel import Session, col, select

from banks import BankError
from connect.bank_access import BankAccess
from connect.bank_stores import acting_for
from connect.consents import OPEN
from connect.identities import get_identity, release_identity
from models.connect import Consent, ConsentKind
from models.users import SandboxIdentity

log = logging.getLogger(__name__)


def _open_consents(bank: BankAccess, user_id: uuid.UUID) -> list[Consent]:
    with Session(bank.ctx.engine, expire_on_commit=False) as session:
        query = select(Consent).where(Consent.user_id == user_id, col(Consent.status).in_(OPEN))
        return list(session.exec(query))


async def release_everywhere(bank: BankAccess, name: str) -> SandboxIdentity:
    row = await asyncio.to_thread(get_identity, bank.ctx.engine, name)
    if row.user_id is not None:
        holder = row.user_id
        for consent in await asyncio.to_thread(_open_consents, bank, holder):
            client = bank.client(consent.bank_code)
            try:
                with acting_for(holder):
                    if consent.kind == ConsentKind.accounts:
                        await client.revoke_account_consent(
                            consent.consent_id or consent.request_id
                        )
                    elif consent.consent_id:
                        await client.revoke_product_agreement_consent(consent.consent_id)
            except BankError as exc:
                # The identity is freed anyway; the stale consent is logged for an operator.
                log.warning("consent %s not revoked at %s: %s", consent.id, consent.bank_code, exc)
    return await asyncio.to_thread(release_identity, bank.ctx.engine, name)
