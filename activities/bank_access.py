"""Bank access shared by the Connect activities: one client per bank, error mapping.

Bank calls are async (httpx); database work runs in threads. Bank errors become Temporal
errors: consent and auth problems are final (the user must act), rate limits and outages
are retried by Temporal with backoff.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlmodel import Session
from temporalio.exceptions import ApplicationError

from activities import connect_db as db
from activities.bank_stores import DbRawLogSink, DbTokenStore, current_user_id
from banks import (
    BankAuthError,
    BankBadRequestError,
    BankClient,
    BankError,
    ConsentRequiredError,
)
from contracts import connect as c
from core.context import ServiceContext
from models.connect import Consent, ConsentKind, ConsentStatus
from models.users import User

T = TypeVar("T")


@asynccontextmanager
async def bank_errors(user_id: str, bank_code: str, engine: Any) -> AsyncIterator[None]:
    """Map bank failures to Temporal: final for consent/auth/bad requests, else retried."""
    token = current_user_id.set(uuid.UUID(user_id) if user_id else None)
    try:
        yield
    except ConsentRequiredError as exc:
        await asyncio.to_thread(db.mark_consent_required, engine, user_id, bank_code, str(exc))
        raise ApplicationError(str(exc), type=c.CONSENT_REQUIRED, non_retryable=True) from exc
    except BankAuthError as exc:
        raise ApplicationError(str(exc), type=c.BANK_AUTH_FAILED, non_retryable=True) from exc
    except BankBadRequestError as exc:
        raise ApplicationError(str(exc), type=exc.code, non_retryable=True) from exc
    except BankError as exc:
        # Rate limits and outages: Temporal retries the activity with its own backoff.
        raise ApplicationError(str(exc), type=exc.code) from exc
    finally:
        current_user_id.reset(token)


def consent_state(row: Consent) -> c.ConsentState:
    return c.ConsentState(
        consent_row_id=str(row.id),
        bank_code=row.bank_code,
        kind=row.kind.value,
        status=row.status.value,
        auto_approved=row.auto_approved,
        reason=row.status_reason,
    )


class BankAccess:
    """One BankClient per bank for this worker process, with DB-backed tokens and logs."""

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

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, self.ctx.engine, *args)

    def external_client(self, user_id: str) -> str:
        with Session(self.ctx.engine) as session:
            user = session.get(User, uuid.UUID(user_id))
            if user is None or not user.external_client_id:
                raise ApplicationError(
                    "user has no bank client mapping", type="UserNotMapped", non_retryable=True
                )
            return user.external_client_id

    async def authorized(self, user_id: str, bank_code: str, kind: ConsentKind) -> Consent | None:
        """The user's authorized consent of this kind at this bank, if any."""
        row = await self.db(db.active_consent, user_id, bank_code, kind.value)
        return row if row and row.status == ConsentStatus.authorized and row.consent_id else None

    async def accounts_consent(self, user_id: str, bank_code: str) -> tuple[str, str]:
        """(external client id, consent id) for data calls; final error when there is none."""
        consent = await self.authorized(user_id, bank_code, ConsentKind.accounts)
        if consent is None or consent.consent_id is None:
            raise ApplicationError(
                "No authorized account consent", type=c.CONSENT_REQUIRED, non_retryable=True
            )
        return await asyncio.to_thread(self.external_client, user_id), consent.consent_id
