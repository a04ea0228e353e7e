"""Freeing a sandbox identity everywhere: the holder's consents are withdrawn at the banks
first (the bank would otherwise show the next holder an approval they never gave), then
what we stored from the identity is deleted and the identity returns to the pool.

The same rules as a user's revoke: a bank that still answers with the identity's data has
not let go, whatever its revoke said. The identity then stays held (409), the consents are
`revoke_pending`, and their revoke workflows probe until the bank stops; release it again
then."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from connect.bank_access import BankAccess
from connect.connections import BANK_NAMES
from connect.consent_rows import consents_in
from connect.errors import ConsentRevokePending
from connect.identities import get_identity, release_identity
from connect.onboarding import keep_probing
from connect.withdrawal import ACCOUNTS, withdraw_everything
from models.connect import ConsentStatus
from models.users import SandboxIdentity


async def release_everywhere(bank: BankAccess, client: Client, name: str) -> SandboxIdentity:
    row = await asyncio.to_thread(get_identity, bank.ctx.engine, name)
    if row.user_id is not None:
        held = await withdraw_everything(bank, row.user_id, name)
        if held:
            pending = (ConsentStatus.revoke_pending,)
            rows = await bank.db(consents_in, row.user_id, None, ACCOUNTS, pending)
            await keep_probing(bank.ctx, client, row.user_id, rows)
            names = ", ".join(BANK_NAMES[code] for code in held)
            raise ConsentRevokePending(
                f"{names} still give(s) JivaPay the data of {name}: the identity stays held "
                "until its consent is revoked there (in the bank's app); release it again then"
            )
    return await asyncio.to_thread(release_identity, bank.ctx.engine, name)
