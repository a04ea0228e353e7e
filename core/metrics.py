"""Prometheus metrics: HTTP by route template, the business, and the state in the database.

Multiprocess-safe: when `PROMETHEUS_MULTIPROC_DIR` is set (several uvicorn workers, or
API and worker sharing a host), every process writes its samples there and `/metrics`
aggregates them (`prometheus_client.multiprocess`). Counters and histograms only are
recorded per process; database state (orders by status, consents, sync lag) is read at
scrape time by a collector, so it is the same whichever process answers.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    """Pure ASGI: counts and times every request under its route template (`/x/{id}`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = self._template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        """The path template (`/api/x/{id}`): a label with few values, never the raw path."""
        found = path_template(scope.get("app"), scope["path"])
        # Routes left out of the schema (/metrics) still name themselves.
        return found or str(getattr(scope.get("route"), "path", "unmatched"))


def path_template(app: Any, path: str) -> str | None:
    """The OpenAPI path template (`/api/x/{id}`) a request path matches, if any; the
    templates are compiled once per application."""
    state = getattr(app, "state", None)
    if state is None:
        return None
    templates: list[tuple[re.Pattern[str], str]] | None = getattr(state, "path_templates", None)
    if templates is None:
        openapi = getattr(app, "openapi", None)
        paths = openapi().get("paths", {}) if openapi is not None else {}
        templates = [(compile_path(template)[0], template) for template in paths]
        state.path_templates = templates
    return next((tpl for regex, tpl in templates if regex.match(path)), None)


def gauge(name: str, doc: str, labels: list[str], rows: list[tuple[Any, ...]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for *values, number in rows:
        family.add_metric([str(v) for v in values], float(number))
    return family
