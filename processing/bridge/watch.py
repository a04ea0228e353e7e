"""One scan of a trader's statement watch: fetch the newest transactions of each linked
account that has open work, decide the new credits, confirm what the statement proves, flag
hand confirmations no credit backed in time, and record the bank's state for the trader.

"Open work" on a linked requisite: its open pay-ins, pay-ins its trader confirmed by hand
less than `unverified_confirmation_seconds` ago that no credit has backed yet, and the
trader's taken pay-outs in its currency (their debits become evidence).

Bank failures never fail the scan: a rate limit, an outage or a revoked consent is recorded
on the trader (`statement_status`), orders stay confirmable by hand, and the watch backs off
and tries again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.service import RPCError

from banks.errors import BankError, BankRateLimitedError, ConsentRequiredError
from connect.bank_access import BankAccess
from connect.bank_data import store_transactions
from connect.consent_rows import mark_consent_required
from connect.errors import NoLiveConsent, UserNotMapped
from connect.records import transaction_record
from contracts.bridge import (
    ScanInput,
    WatchInput,
    WatchScan,
    WatchSignal,
    WatchStatus,
    statement_watch_id,
)
from core.context import ServiceContext
from core.db import session_scope
from core.metrics import STATEMENT_CREDITS, STATEMENT_SCANS, UNVERIFIED_CONFIRMATIONS
from models.banking import BankAccount
from models.base import as_utc, utcnow
from models.platform_settings import PlatformValues
from models.traders import Requisite, Trader
from processing.bridge import statement
from processing.bridge.payouts import attach_debits, open_payouts
from workflows.statement_watch import StatementWatchWorkflow

log = logging.getLogger(__name__)
# The fetch window opens this long before the oldest open match (bank clocks drift).
FETCH_MARGIN = timedelta(minutes=2)
CONFIRM_CONCURRENCY = 10


@dataclass(frozen=True)
class Target:
    requisite_id: uuid.UUID
    user_id: str
    bank_code: str
    account_row_id: str
    account_external_id: str
    since: datetime


@dataclass(frozen=True)
class Work:
    targets: list[Target]
    open_work: int


def find_work(engine: Engine, trader_id: uuid.UUID, unverified_s: int) -> Work:
    """The trader's linked accounts with open work, and how much is open."""
    now, targets = utcnow(), []
    with Session(engine) as session:
        rows = session.exec(
            select(Requisite, BankAccount)
            .join(BankAccount, BankAccount.id == Requisite.linked_account_id)  # type: ignore[arg-type]
            .where(Requisite.trader_id == trader_id)
        ).all()
        counted: set[uuid.UUID] = set()
        for requisite, account in rows:
            since = now - timedelta(seconds=unverified_s)
            orders = statement.open_payins(session, requisite.id)
            orders += statement.hand_confirmed(session, requisite.id, since)
            orders = [o for o in orders if statement.UNVERIFIED_FLAG not in (o.flags or [])]
            payouts = open_payouts(session, trader_id, requisite.currency)
            if not orders and not payouts:
                continue
            counted.update(o.id for o in orders + payouts)
            started = [as_utc(o.matched_at) for o in orders if o.matched_at]
            started += [as_utc(p.assigned_at) for p in payouts if p.assigned_at]
            start = min(started, default=now) - FETCH_MARGIN
            targets.append(
                Target(
                    requisite.id,
                    str(account.user_id),
                    account.bank_code,
                    str(account.id),
                    account.external_id,
                    max(start, statement.scan_start(requisite, now) - FETCH_MARGIN),
                )
            )
    return Work(targets, len(counted))


def flag_unverified(engine: Engine, trader_id: uuid.UUID, unverified_s: int) -> int:
    """Hand confirmations older than the window with no credit behind them: flagged for
    admin (never undone, never blocking)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=unverified_s)
    flagged = 0
    with session_scope(engine) as session:
        requisites = session.exec(
            select(Requisite).where(
                Requisite.trader_id == trader_id,
                Requisite.linked_account_id != None,  # noqa: E711 - SQL IS NOT NULL
            )
        ).all()
        for requisite in requisites:
            since = max(now - statement.LOOKBACK, statement.scan_start(requisite, now))
            for order in statement.hand_confirmed(session, requisite.id, since):
                late = order.finished_at is not None and as_utc(order.finished_at) < cutoff
                if late and statement.UNVERIFIED_FLAG not in (order.flags or []):
                    statement.flag(order, statement.UNVERIFIED_FLAG)
                    session.add(order)
                    flagged += 1
    if flagged:
        UNVERIFIED_CONFIRMATIONS.inc(flagged)
    return flagged


def record_status(engine: Engine, trader_id: uuid.UUID, status: str, error: str | None) -> None:
    with session_scope(engine) as session:
        trader = session.get(Trader, trader_id)
        if trader is not None:
            trader.statement_status, trader.statement_error = status, error
            trader.statement_checked_at = utcnow()
            session.add(trader)


async def fetch(bank: BankAccess, target: Target) -> None:
    """The newest transactions of one linked account, stored as Connect's sync stores them."""
    external, consent_id = await bank.accounts_consent(target.user_id, target.bank_code)
    stream = bank.client(target.bank_code).iter_transactions(
        target.account_external_id,
        external_client_id=external,
        consent_id=consent_id,
        from_dt=target.since,
    )
    records = [transaction_record(tx) async for tx in stream]
    await bank.db(
        store_transactions, target.user_id, target.bank_code, target.account_row_id, records
    )


def _status_of(exc: Exception) -> tuple[str, float | None]:
    if isinstance(exc, BankRateLimitedError):
        return WatchStatus.rate_limited, exc.retry_after_s
    if isinstance(exc, ConsentRequiredError | NoLiveConsent | UserNotMapped):
        return WatchStatus.consent_required, None
    return WatchStatus.bank_unavailable, None


async def _confirm_all(
    bank: BankAccess, client: Client, decisions: list[statement.CreditDecision]
) -> int:
    """Send the confirms side by side (each order's workflow serialises its own updates)."""
    gate = asyncio.Semaphore(CONFIRM_CONCURRENCY)

    async def one(decision: statement.CreditDecision) -> bool:
        async with gate:
            return await statement.confirm_by_statement(bank.ctx, client, decision)

    return sum(await asyncio.gather(*(one(d) for d in decisions)))


async def scan(
    bank: BankAccess, client: Client, platform: PlatformValues, inp: ScanInput
) -> WatchScan:
    engine, trader_id = bank.ctx.engine, uuid.UUID(inp.trader_id)
    unverified_s = platform.unverified_confirmation_seconds
    work = await asyncio.to_thread(find_work, engine, trader_id, unverified_s)
    result = WatchScan(work.open_work, platform.statement_watch_interval_seconds)
    error: str | None = None
    for target in work.targets:
        try:
            await fetch(bank, target)
        except (BankError, NoLiveConsent, UserNotMapped) as exc:
            result.status, result.retry_after_s = _status_of(exc)
            if isinstance(exc, ConsentRequiredError):
                # As Connect's sync does: the stored consent is no longer valid at the bank.
                reason = str(exc)[:300]
                await bank.db(mark_consent_required, target.user_id, target.bank_code, reason)
            error = f"{target.bank_code}: {exc}"[:300]
            log.warning("statement watch of trader %s: %s", trader_id, result.status)
        for decision in await asyncio.to_thread(
            statement.decide_credits, engine, target.requisite_id, unverified_s
        ):
            STATEMENT_CREDITS.labels(decision.outcome.value).inc()
            result.suggested += decision.outcome in statement.OFFERED
        unsent = await asyncio.to_thread(statement.unsent_confirms, engine, target.requisite_id)
        result.confirmed += await _confirm_all(bank, client, unsent)
    result.evidenced = await asyncio.to_thread(attach_debits, engine, trader_id)
    result.flagged = await asyncio.to_thread(flag_unverified, engine, trader_id, unverified_s)
    if work.targets:
        STATEMENT_SCANS.labels(result.status).inc()
        await asyncio.to_thread(record_status, engine, trader_id, result.status, error)
    return result


async def ensure_watch(client: Client, task_queue: str, trader_id: uuid.UUID) -> None:
    """Signal-with-start: the trader's watch starts, or the running one is kicked."""
    await client.start_workflow(
        StatementWatchWorkflow.run,
        WatchInput(str(trader_id)),
        id=statement_watch_id(str(trader_id)),
        task_queue=task_queue,
        static_summary=f"statement watch · trader {trader_id}",
        start_signal=WatchSignal.kick,
    )


def _linked_in(engine: Engine, trader_id: uuid.UUID, currency: str) -> bool:
    with Session(engine) as session:
        query = select(Requisite.id).where(
            Requisite.trader_id == trader_id,
            Requisite.currency == currency,
            Requisite.linked_account_id != None,  # noqa: E711 - SQL IS NOT NULL
        )
        return session.exec(query).first() is not None


async def watch_if_linked(
    ctx: ServiceContext, client: Client, trader_id: uuid.UUID, currency: str
) -> None:
    """Kick the trader's watch when they have a linked account in the currency. Evidence is a
    nicety: a failure to reach Temporal is logged, never failing what already happened."""
    if not await asyncio.to_thread(_linked_in, ctx.engine, trader_id, currency):
        return
    try:
        await ensure_watch(client, ctx.settings.temporal_task_queue, trader_id)
    except RPCError:
        log.warning("statement watch of trader %s not started (Temporal unavailable)", trader_id)
