"""Connect activities: bank token, consents and sync, each talking HTTP to one bank.

Bank calls are async (httpx); database work runs in threads. Bank errors become Temporal
errors: consent and auth problems are final (the user must act), rate limits and outages
are retried by Temporal with backoff.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypeVar

from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import bank_data_db as data
from activities import connect_db as db
from activities.bank_client import BankClient
from activities.bank_models import (
    BankAuthError,
    BankBadRequestError,
    BankError,
    ConsentRequiredError,
)
from activities.bank_models import ConsentStatus as WireConsentStatus
from activities.bank_stores import DbRawLogSink, DbTokenStore, current_user_id
from activities.connect_records import (
    account_record,
    agreement_record,
    balance_record,
    transaction_record,
)
from contracts import connect as c
from core.context import ServiceContext
from models.base import utcnow
from models.connect import Consent, ConsentKind, ConsentStatus
from models.users import User

T = TypeVar("T")
AUTO_CONSENT_LIFETIME = timedelta(days=365)
TRANSACTION_BATCH = 500

WIRE_STATUS = {
    WireConsentStatus.authorized: ConsentStatus.authorized,
    WireConsentStatus.awaiting_authorization: ConsentStatus.pending,
    WireConsentStatus.rejected: ConsentStatus.rejected,
    WireConsentStatus.revoked: ConsentStatus.revoked,
    WireConsentStatus.expired: ConsentStatus.expired,
    WireConsentStatus.unknown: ConsentStatus.pending,
}


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


class ConnectActivities:
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

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, self.ctx.engine, *args)

    def _external_client(self, user_id: str) -> str:
        with Session(self.ctx.engine) as session:
            user = session.get(User, uuid.UUID(user_id))
            if user is None or not user.external_client_id:
                raise ApplicationError(
                    "user has no bank client mapping", type="UserNotMapped", non_retryable=True
                )
            return user.external_client_id

    @activity.defn(name=c.ENSURE_TOKEN)
    async def ensure_token(self, bank_code: str) -> str:
        """Make sure a valid bank token is cached; returns its bank, never the token."""
        async with bank_errors("", bank_code, self.ctx.engine):
            await self.client(bank_code).get_bank_token()
        return bank_code

    @activity.defn(name=c.REQUEST_CONSENT)
    async def request_consent(self, req: c.ConsentRequest) -> c.ConsentState:
        """Reuse the active consent of this bank and kind, or request a new one."""
        existing = await self._db(db.active_consent, req.user_id, req.bank_code, req.kind)
        if existing is not None:
            return consent_state(existing)
        external = await asyncio.to_thread(self._external_client, req.user_id)
        client = self.client(req.bank_code)
        async with bank_errors(req.user_id, req.bank_code, self.ctx.engine):
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
        row = await self._db(db.create_consent, row)
        if row.status == ConsentStatus.authorized:
            await self._supersede(row)
        return consent_state(row)

    @activity.defn(name=c.POLL_CONSENT)
    async def poll_consent(self, state: c.ConsentState) -> c.ConsentState:
        """Ask the bank for a pending consent's status."""
        row = await self._db(db.consent_by_id, state.consent_row_id)
        client = self.client(row.bank_code)
        async with bank_errors(str(row.user_id), row.bank_code, self.ctx.engine):
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
        row = await self._db(db.consent_by_id, state.consent_row_id)
        external = await asyncio.to_thread(self._external_client, str(row.user_id))
        client = self.client(row.bank_code)
        password = self.ctx.settings.bank_client_secret.get_secret_value()
        async with bank_errors(str(row.user_id), row.bank_code, self.ctx.engine):
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
        row = await self._db(
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
        updated = await self._db(db.record_consent, row.id, status, note, consent_id, expires)
        if updated.status == ConsentStatus.authorized:
            await self._supersede(updated)
        return consent_state(updated)

    async def _supersede(self, keep: Consent) -> None:
        """One active consent per bank and kind: older ones are revoked, here and at the bank."""
        stale = await self._db(db.revoke_other_consents, keep)
        if keep.kind != ConsentKind.accounts:
            return
        async with bank_errors(str(keep.user_id), keep.bank_code, self.ctx.engine):
            for consent_id in stale:
                await self.client(keep.bank_code).revoke_account_consent(consent_id)

    @activity.defn(name=c.REVOKE_CONSENT)
    async def revoke_consent(self, inp: c.RevokeInput) -> c.ConsentState:
        """Withdraw a consent at the bank and here; the bank then needs re-connecting."""
        row = await self._db(db.consent_by_id, inp.consent_row_id)
        if row.consent_id and row.kind == ConsentKind.accounts:
            async with bank_errors(inp.user_id, row.bank_code, self.ctx.engine):
                await self.client(row.bank_code).revoke_account_consent(row.consent_id)
        reason = "Revoked by the user"
        updated = await self._db(db.record_consent, row.id, ConsentStatus.revoked, reason)
        if row.kind == ConsentKind.accounts:
            update = c.ConnectionUpdate(inp.user_id, row.bank_code, "not_connected", "revoked", 0)
            await self._db(db.update_connection, update)
        return consent_state(updated)

    @activity.defn(name=c.UPDATE_CONNECTION)
    async def update_connection(self, update: c.ConnectionUpdate) -> None:
        """Mirror a bank's onboarding / sync progress into bank_connections."""
        await self._db(db.update_connection, update)

    async def _authorized(self, user_id: str, bank_code: str, kind: ConsentKind) -> Consent | None:
        row = await self._db(db.active_consent, user_id, bank_code, kind.value)
        return row if row and row.status == ConsentStatus.authorized and row.consent_id else None

    @activity.defn(name=c.SYNC_ACCOUNTS)
    async def sync_accounts(self, inp: c.SyncInput) -> c.AccountsSynced:
        """Accounts and their balances (a snapshot row per balance)."""
        consent = await self._authorized(inp.user_id, inp.bank_code, ConsentKind.accounts)
        if consent is None or consent.consent_id is None:
            raise ApplicationError(
                "No authorized account consent", type=c.CONSENT_REQUIRED, non_retryable=True
            )
        external = await asyncio.to_thread(self._external_client, inp.user_id)
        run_id = await self._db(data.start_sync_run, inp.user_id, inp.bank_code, _run_key())
        client = self.client(inp.bank_code)
        async with bank_errors(inp.user_id, inp.bank_code, self.ctx.engine):
            accounts = await client.list_accounts(external, consent.consent_id)
            refs = await self._db(
                data.upsert_accounts,
                inp.user_id,
                inp.bank_code,
                [account_record(a) for a in accounts],
            )
            now = utcnow()
            for ref in refs:
                balances = await client.get_balances(
                    ref.external_id, external_client_id=external, consent_id=consent.consent_id
                )
                records = [balance_record(b, now) for b in balances]
                await self._db(data.save_balances, ref.account_row_id, records)
                activity.heartbeat(ref.external_id)
        return c.AccountsSynced(run_id, refs)

    @activity.defn(name=c.SYNC_TRANSACTIONS)
    async def sync_transactions(self, inp: c.AccountSyncInput) -> c.TransactionsSynced:
        """New and changed transactions of one account since the last sync (with overlap)."""
        consent = await self._authorized(inp.user_id, inp.bank_code, ConsentKind.accounts)
        if consent is None or consent.consent_id is None:
            raise ApplicationError(
                "No authorized account consent", type=c.CONSENT_REQUIRED, non_retryable=True
            )
        external = await asyncio.to_thread(self._external_client, inp.user_id)
        start = await self._db(data.sync_window_start, inp.account.account_row_id, utcnow())
        total, batch = c.TransactionsSynced(), []
        async with bank_errors(inp.user_id, inp.bank_code, self.ctx.engine):
            stream = self.client(inp.bank_code).iter_transactions(
                inp.account.external_id,
                external_client_id=external,
                consent_id=consent.consent_id,
                from_dt=start,
            )
            async for tx in stream:
                batch.append(transaction_record(tx))
                if len(batch) >= TRANSACTION_BATCH:
                    _add(total, await self._store(inp, batch))
                    batch = []
            _add(total, await self._store(inp, batch))
        return total

    async def _store(self, inp: c.AccountSyncInput, batch: list[Any]) -> c.TransactionsSynced:
        activity.heartbeat(len(batch))
        return await self._db(
            data.store_transactions, inp.user_id, inp.bank_code, inp.account.account_row_id, batch
        )

    @activity.defn(name=c.SYNC_AGREEMENTS)
    async def sync_agreements(self, inp: c.SyncInput) -> int:
        """Loan, deposit and card agreements, with rate and balance from each one's detail."""
        consent = await self._authorized(inp.user_id, inp.bank_code, ConsentKind.product_agreements)
        if consent is None or consent.consent_id is None:
            return 0
        external = await asyncio.to_thread(self._external_client, inp.user_id)
        client = self.client(inp.bank_code)
        records = []
        async with bank_errors(inp.user_id, inp.bank_code, self.ctx.engine):
            for agreement in await client.list_product_agreements(external, consent.consent_id):
                detail = await client.get_product_agreement(
                    agreement.agreement_id,
                    external_client_id=external,
                    consent_id=consent.consent_id,
                )
                records.append(agreement_record(detail))
        return await self._db(data.upsert_agreements, inp.user_id, inp.bank_code, records)

    @activity.defn(name=c.FINISH_SYNC)
    async def finish_sync(self, finish: c.FinishSync) -> None:
        """Close the sync run and set the bank's final state."""
        await self._db(data.finish_sync, finish)


def _run_key() -> str:
    # One sync run per workflow run, however often the activity is retried.
    return activity.info().workflow_run_id or uuid.uuid4().hex


def _add(total: c.TransactionsSynced, part: c.TransactionsSynced) -> None:
    total.seen += part.seen
    total.added += part.added
    total.updated += part.updated


def connect_activities(acts: ConnectActivities) -> list[Callable[..., Any]]:
    return [
        acts.ensure_token,
        acts.request_consent,
        acts.poll_consent,
        acts.sign_consent,
        acts.expire_consent,
        acts.revoke_consent,
        acts.update_connection,
        acts.sync_accounts,
        acts.sync_transactions,
        acts.sync_agreements,
        acts.finish_sync,
    ]
