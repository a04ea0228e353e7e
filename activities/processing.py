"""Processing activities: thin Temporal adapters over `processing/` (match, transitions,
callbacks). Domain refusals become non-retryable `ApplicationError`s with the type names
workflows and the API branch on; anything else is retried by Temporal.

Sync methods run in the worker's thread pool; `deliver_callback` is async (HTTP).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts import processing as p
from contracts.rates import REFRESH_RATES_ACTIVITY, RatesRefreshInput, RatesRefreshResult
from contracts.reconcile import ReconcileInput, ReconcileResult
from core.context import ServiceContext
from core.metrics import CALLBACK_ATTEMPTS
from models.orders import CallbackAttempt
from processing.bridge.watch import ensure_watch
from processing.callbacks import events as callbacks
from processing.callbacks.signing import CallbackBlockedError
from processing.errors import InvalidTransition, OrderNotFound
from processing.funds import sweep
from processing.orders import lifecycle, pending, reconcile
from processing.platform import rates
from processing.platform.reference import forget_rates
from processing.risk.fraud import Screener

log = logging.getLogger(__name__)


@contextmanager
def final_refusals() -> Iterator[None]:
    """Refusals no retry can change: the workflow sees them by type, at once."""
    try:
        yield
    except OrderNotFound as exc:
        raise ApplicationError(
            exc.message, type=p.ProcessingError.order_not_found, non_retryable=True
        ) from exc
    except InvalidTransition as exc:
        # The stable code travels as the first detail (the API answers with it).
        raise ApplicationError(
            exc.message, exc.code, type=p.ProcessingError.invalid_transition, non_retryable=True
        ) from exc


class ProcessingActivities:
    """Holds the process's clients: the database engine, secrets and the callback client."""

    def __init__(self, ctx: ServiceContext, http: httpx.AsyncClient | None = None) -> None:
        self.ctx = ctx
        self.http = http or callbacks.build_http_client()
        self.screener = Screener(ctx.settings)

    @activity.defn(name=p.ProcessingActivity.match_requisite)
    async def match_requisite(self, inp: p.MatchInput) -> p.MatchOutcome:
        """Screen the pay-in, then choose a requisite and hold the trader's liquidity; a match
        on a requisite linked to a bank account starts (or kicks) the trader's statement
        watch. Matching is idempotent, so a retry after a failed kick changes nothing."""
        with final_refusals():
            matched = await asyncio.to_thread(
                lifecycle.match_order, self.ctx.engine, inp.order_id, self.screener
            )
        outcome = matched.outcome
        if not outcome.matched:
            log.info("order %s not matched: %s", inp.order_id, outcome.failure_reason)
            return outcome
        log.info("order %s held on requisite %s", inp.order_id, outcome.requisite_id)
        if matched.watch_trader_id is not None:
            queue = self.ctx.settings.temporal_task_queue
            await ensure_watch(activity.client(), queue, matched.watch_trader_id)
        return outcome

    @activity.defn(name=p.ProcessingActivity.record_transition)
    def record_transition(self, inp: p.TransitionInput) -> p.TransitionResult:
        """Mirror one status change (audit event, hold void/post, settlement) exactly once."""
        with final_refusals():
            result = lifecycle.record_transition(self.ctx.engine, inp)
        log.info("order %s is %s (%s)", inp.order_id, result.status, inp.hold_action)
        return result

    @activity.defn(name=p.ProcessingActivity.hold_payout)
    def hold_payout(self, inp: p.MatchInput) -> p.PayoutOutcome:
        """Screen the pay-out, then hold amount + fee on the store's balance."""
        with final_refusals():
            outcome = lifecycle.hold_payout(self.ctx.engine, inp.order_id, self.screener)
        log.info("pay-out %s: %s %s", inp.order_id, outcome.status, outcome.failure_reason or "")
        return outcome

    @activity.defn(name=p.ProcessingActivity.escalate_dispute)
    def escalate_dispute(self, inp: p.EscalateInput) -> bool:
        """A dispute outlived its SLA: flag it for the admin queue (nothing is decided)."""
        with final_refusals():
            return lifecycle.escalate(self.ctx.engine, inp.order_id)

    @activity.defn(name=p.ProcessingActivity.prepare_callback)
    def prepare_callback(self, inp: p.CallbackInput) -> p.CallbackPrepared:
        """Create the delivery row with its frozen body, once per event id."""
        return p.CallbackPrepared(inp.event_id, callbacks.prepare_delivery(self.ctx.engine, inp))

    @activity.defn(name=p.ProcessingActivity.deliver_callback)
    async def deliver_callback(self, inp: p.CallbackAttemptInput) -> p.CallbackAttemptResult:
        """One signed POST; every outcome is recorded as an attempt."""
        engine, decrypt = self.ctx.engine, self.ctx.secrets.decrypt
        prepared = await asyncio.to_thread(callbacks.load_delivery, engine, decrypt, inp.event_id)
        started = time.monotonic()
        status_code, error, blocked = None, None, False
        try:
            status_code = await callbacks.send_signed(
                self.http, prepared, self.ctx.settings.callback_allow_private
            )
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except CallbackBlockedError as exc:
            error, blocked = f"blocked: {exc}", True
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        attempt = CallbackAttempt(
            delivery_id=prepared.delivery.id,
            attempt_no=inp.attempt_no,
            status_code=status_code,
            latency_ms=int((time.monotonic() - started) * 1000),
            error=error,
        )
        await asyncio.to_thread(callbacks.record_attempt, engine, attempt, error is None)
        CALLBACK_ATTEMPTS.labels("blocked" if blocked else "failed" if error else "delivered").inc()
        if blocked:
            # Recorded above; the destination is refused, so retrying cannot help.
            raise ApplicationError(
                str(error), type=p.ProcessingError.callback_blocked, non_retryable=True
            )
        return p.CallbackAttemptResult(
            inp.event_id, inp.attempt_no, error is None, status_code, error
        )

    @activity.defn(name=p.ProcessingActivity.finish_callback)
    def finish_callback(self, inp: p.CallbackFinished) -> None:
        """After the last rung: a delivery that never succeeded is marked failed."""
        if not inp.delivered:
            callbacks.mark_failed(self.ctx.engine, inp.event_id)

    @activity.defn(name=p.ProcessingActivity.fail_orphans)
    async def fail_orphans(self, inp: ReconcileInput) -> ReconcileResult:
        """Fail `created` orders no workflow owns (the engine was down at create); start the
        workflow of every deposit and withdrawal still waiting for one; send again each
        action answered 202 that the engine lost."""
        ctx, client = self.ctx, activity.client()
        result = await reconcile.fail_orphans(ctx.engine, client, inp, ctx.settings)
        if result.failed:
            log.warning("failed %d orphan order(s) as not_started", len(result.failed))
        result.started = await sweep.start_stranded(ctx, client, inp.grace_seconds, inp.limit)
        if result.started:
            log.warning("started %d deposit/withdrawal workflow(s) late", len(result.started))
        result.resent = await pending.resend_lost(ctx.engine, client, inp.limit)
        return result

    @activity.defn(name=REFRESH_RATES_ACTIVITY)
    async def refresh_rates(self, _: RatesRefreshInput) -> RatesRefreshResult:
        """Fetch the provider's rates into the database; the public list forgets its copy."""
        settings = self.ctx.settings
        try:
            pairs = await rates.refresh_from_provider(
                self.ctx.engine,
                self.http,
                settings.rates_provider_url,
                settings.rates_max_age_seconds,
            )
        except (httpx.HTTPError, ValueError) as exc:
            # One line per scheduled run, not a traceback per attempt: the next run tries
            # again, the stored rates stay until stale (then creates answer rate_unavailable).
            host = httpx.URL(settings.rates_provider_url).host
            log.warning("rates provider %s failed: %s", host, type(exc).__name__)
            return RatesRefreshResult(error=f"{host}: {type(exc).__name__}")
        await forget_rates(self.ctx)
        return RatesRefreshResult(pairs)
