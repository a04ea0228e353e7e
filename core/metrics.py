"""Prometheus metrics: HTTP by route template, the business, and the state in the database.

Multiprocess-safe: when `PROMETHEUS_MULTIPROC_DIR` is set (several uvicorn workers, or
API and worker sharing a host), every process writes its samples there and `/metrics`
aggregates them (`prometheus_client.multiprocess`). Counters and histograms only are
recorded per process; database state (orders by status, consents, sync lag) is read at
scrape time by a collector, so it is the same whichever process answers.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("jivapay.access")
# Probes and scrapes come every few seconds: their lines only at DEBUG.
PROBE_ROUTES = frozenset({"/health", "/ready", "/metrics"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
SLOW_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200, 21600, 86400)

HTTP_REQUESTS = Counter(
    "jivapay_http_requests_total", "HTTP requests by route template", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "jivapay_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
MATCH_FAILURES = Counter(
    "jivapay_match_failures_total", "Orders no requisite could take, by reason", ["kind", "reason"]
)
TIME_TO_MATCH = Histogram(
    "jivapay_order_time_to_match_seconds",
    "From order creation to its requisite (pay-in) or trader (pay-out)",
    ["kind"],
    buckets=LATENCY_BUCKETS,
)
TIME_TO_FINISH = Histogram(
    "jivapay_order_time_to_finish_seconds",
    "From order creation to its final status",
    ["kind", "status"],
    buckets=SLOW_BUCKETS,
)
ORPHANS_FAILED = Counter(
    "jivapay_orphan_orders_failed_total",
    "Orders created while the workflow engine was down and failed as not_started",
    ["kind"],
)
FUNDS_STARTED_LATE = Counter(
    "jivapay_funds_started_by_reconciler_total",
    "Deposits and withdrawals whose workflow the orphan reconciler started (the create's "
    "start never reached the engine)",
    ["kind"],
)
WITHDRAWALS_ESCALATED = Counter(
    "jivapay_withdrawals_escalated_total", "Withdrawals that waited past their SLA"
)
CALLBACK_ATTEMPTS = Counter(
    "jivapay_callback_attempts_total", "Merchant callback attempts by outcome", ["outcome"]
)
SYNC_DURATION = Histogram(
    "jivapay_sync_duration_seconds",
    "One bank's sync, start to finish, by final status",
    ["bank", "status"],
    buckets=SLOW_BUCKETS,
)
STATEMENT_BOOKING_TO_COMPLETED = Histogram(
    "jivapay_statement_booking_to_completed_seconds",
    "From the bank's booking of a credit to the pay-in it completed (statement bridge)",
    buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300, 900),
)
PAYIN_CONFIRMATIONS = Counter(
    "jivapay_payin_confirmations_total",
    "Pay-ins completed, by who confirmed them (bank_statement / trader / admin): the"
    " auto-confirm rate is bank_statement over the sum",
    ["by"],
)
STATEMENT_CREDITS = Counter(
    "jivapay_statement_credits_total", "Credits on linked accounts, by outcome", ["outcome"]
)
UNVERIFIED_CONFIRMATIONS = Counter(
    "jivapay_unverified_confirmations_total",
    "Pay-ins confirmed by hand that no credit on the linked account backed in time",
)

STATEMENT_SCANS = Counter(
    "jivapay_statement_scans_total",
    "Statement watch scans of a trader's linked accounts, by the bank's answer (ok /"
    " rate_limited / bank_unavailable / consent_required)",
    ["status"],
)
# Per process (several uvicorn workers each have a pool): `liveall` keeps a pid label.
DB_POOL_IN_USE = Gauge(
    "jivapay_db_pool_connections_in_use",
    "Database connections this process has checked out of its pool",
    multiprocess_mode="liveall",
)
DB_POOL_MAX = Gauge(
    "jivapay_db_pool_connections_max",
    "The most connections this process's pool hands out (pool size + overflow)",
    multiprocess_mode="liveall",
)

TRADER_AUTO_OFFLINE = Counter(
    "jivapay_trader_auto_offline_total",
    "Traders the platform set offline itself, by reason (below_min_working_balance)",
    ["reason"],
)


def instrument_pool(engine: Engine) -> None:
    """Keep the pool gauges current: set on every checkout and checkin, so a scrape sees the
    pool as it is (a full pool makes requests wait up to the pool timeout, then fail)."""
    if not isinstance(engine.pool, QueuePool):
        return

    def count(returning: int) -> None:
        # The engine's pool now: `dispose()` replaces it (the listeners carry over).
        pool = engine.pool
        if isinstance(pool, QueuePool):
            DB_POOL_IN_USE.set(pool.checkedout() - returning)
            DB_POOL_MAX.set(pool.size() + max(pool._max_overflow, 0))

    count(0)
    event.listen(engine.pool, "checkout", lambda *_: count(0))
    # Fired before the connection is back in the pool: it still counts as checked out.
    event.listen(engine.pool, "checkin", lambda *_: count(1))


def registry() -> CollectorRegistry:
    """What `/metrics` serves: every process's samples when multiprocess, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return REGISTRY


def render(*extra: Collector) -> bytes:
    """The exposition text: this process's (or every process's) samples, then `extra`."""
    body = generate_latest(registry())
    if extra:
        scrape = CollectorRegistry()
        for collector in extra:
            scrape.register(collector)
        body += generate_latest(scrape)
    return body


class HttpMetricsMiddleware:
    """Pure ASGI: counts, times and logs every request under its route template (`/x/{id}`).

    The log line (`jivapay.access`) carries method, route, status, duration and who asked
    (`user_id` or `store_id`, as authentication put them in the request's state), never the
    raw path, query or headers: tokens and ids of other people stay out of the logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500
        # Made here, so layers below that copy the scope still share it: authentication puts
        # who asked in it (`request.state.user_id` / `store_id`) for the log line.
        scope.setdefault("state", {})

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route, method = self._template(scope), scope["method"]
            took = time.perf_counter() - started
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(took)
            log_request(scope, method, route, status, took)

    def _template(self, scope: Scope) -> str:
        """The path template (`/api/x/{id}`): a label with few values, never the raw path."""
        found = path_template(scope.get("app"), scope["path"])
        # Routes left out of the schema (/metrics) still name themselves.
        return found or str(getattr(scope.get("route"), "path", "unmatched"))


def log_request(scope: Scope, method: str, route: str, status: int, took_s: float) -> None:
    state = scope.get("state") or {}
    fields = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(took_s * 1000, 1),
        "user_id": state.get("user_id"),
        "store_id": state.get("store_id"),
    }
    who = "".join(f" {k}={fields[k]}" for k in ("user_id", "store_id") if fields[k])
    level = logging.DEBUG if route in PROBE_ROUTES else logging.INFO
    message = "%s %s %s %.1fms%s"
    access_log.log(level, message, method, route, status, fields["duration_ms"], who, extra=fields)


def path_template(app: Any, path: str) -> str | None:
    """The route template (`/api/x/{id}`) a request path matches, if any, in the order the
    application routes requests; compiled once per application (`warm_routes`)."""
    state = getattr(app, "state", None)
    if state is None:
        return None
    templates: list[tuple[re.Pattern[str], str]] | None = getattr(state, "path_templates", None)
    if templates is None:
        templates = warm_routes(app)
    return next((tpl for regex, tpl in templates if regex.match(path)), None)


def warm_routes(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """Build every route's handler state and the templates' patterns now. FastAPI builds an
    included router's routes on the first request that reaches it, holding the event loop
    for up to a second (several on a busy machine, when every request waiting on that
    process times out), so a new process does it before it serves (its lifespan). The
    templates come from the routes, never from the OpenAPI, whose generation costs as much
    again."""
    templates: list[tuple[re.Pattern[str], str]] = []
    for context in iter_route_contexts(app.routes):
        if context.path is None or context.path_format is None:
            continue
        route = context.original_route
        regex = route.path_regex if isinstance(route, Mount) else compile_path(context.path)[0]
        templates.append((regex, context.path_format))
    app.state.path_templates = templates
    return templates


def gauge(name: str, doc: str, labels: list[str], rows: list[tuple[Any, ...]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for *values, number in rows:
        family.add_metric([str(v) for v in values], float(number))
    return family
