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
from connect.consent_flow import revoke_at_bank
from connect.consents import OPEN
from connect.identities import get_identity, release_identity
from models.connect import Consent
from models.users import SandboxIdentity

log = logging.getLogger(__name__)


def _open_consents(bank: BankAccess, user_id: uuid.UUID) -> list[Consent]:
    with Session(bank.ctx.engine, expire_on_commit=False) as session:
        query = select(Consent).where(Consent.user_id == user_id, col(Consent.status).in_(OPEN))
        return list(session.exec(query))


async def release_everywhere(bank: BankAccess, name: str) -> SandboxIdentity:
    row = await asyncio.to_thread(get_identity, bank.ctx.engine, name)
    if row.user_id is not None:
        for consent in await asyncio.to_thread(_open_consents, bank, row.user_id):
            try:
                await revoke_at_bank(bank, consent)
            except BankError as exc:
                # The identity is freed anyway; the stale consent is logged for an operator.
                log.warning("consent %s not revoked at %s: %s", consent.id, consent.bank_code, exc)
    return await asyncio.to_thread(release_identity, bank.ctx.engine, name)
