"""A worker process's access to the banks: one `BankClient` per bank, with tokens kept
encrypted in the database and every exchange written (redacted) to the raw API log.

Bank calls are async (httpx); database work runs in threads.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlmodel import Session

from banks import BankClient
from connect import consents
from connect.bank_stores import DbRawLogSink, DbTokenStore
from connect.errors import NoLiveConsent, UserNotMapped
from connect.identities import identity_of
from core.context import ServiceContext
from models.connect import Consent, ConsentKind

T = TypeVar("T")


class BankAccess:
    """One BankClient per bank for this process, with DB-backed tokens and logs."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._clients: dict[str, BankClient] = {}
        self._tokens = DbTokenStore(ctx.engine, ctx.secrets)
        self._sink = DbRawLogSink(ctx.engine)

    def client(self, bank_code: str) -> BankClient:
        if bank_code not in self._clients:
            settings = self.ctx.settings
            self._clients[bank_code] = BankClient(
                bank_code,
                settings.bank_base_urls[bank_code],
                settings.bank_client_id,
                settings.bank_client_secret.get_secret_value(),
                token_store=self._tokens,
                log_sink=self._sink,
            )
        return self._clients[bank_code]

    def batched_logs(self) -> AbstractAsyncContextManager[None]:
        """Inside: the raw API log is written in the background, in batches (paging)."""
        return self._sink.batched()

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """A sync database function `fn(engine, *args)`, run in a thread."""
        return await asyncio.to_thread(fn, self.ctx.engine, *args)

    def _external_client(self, user_id: str) -> str:
        name = identity_of(self.ctx.engine, uuid.UUID(user_id))
        if name is None:
            raise UserNotMapped("The user holds no sandbox identity at the banks")
        return name

    async def external_client(self, user_id: str) -> str:
        """The sandbox identity the user holds at the banks (`teamNNN-k`), theirs alone."""
        return await asyncio.to_thread(self._external_client, user_id)

    def _live(self, user_id: str, bank_code: str, kind: ConsentKind) -> Consent | None:
        with Session(self.ctx.engine, expire_on_commit=False) as session:
            return consents.live_consent(
                session, user_id=uuid.UUID(user_id), bank_code=bank_code, kind=kind
            )

    async def live_consent_id(self, user_id: str, bank_code: str, kind: ConsentKind) -> str | None:
        """The id data calls present for the user's live consent of this kind, if any: the
        bank's consent id, or the request id when approval was seen by a probe (the bank
        resolves it to the user's active consent)."""
        row = await asyncio.to_thread(self._live, user_id, bank_code, kind)
        return (row.consent_id or row.request_id) if row is not None else None

    async def accounts_consent(self, user_id: str, bank_code: str) -> tuple[str, str]:
        """(external client id, bank consent id) for data calls; NoLiveConsent without one."""
        consent_id = await self.live_consent_id(user_id, bank_code, ConsentKind.accounts)
        if consent_id is None:
            raise NoLiveConsent("No authorized account consent")
        return await self.external_client(user_id), consent_id
